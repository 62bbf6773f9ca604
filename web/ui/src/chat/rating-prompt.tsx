// After an administrator hands the conversation back, the customer is asked, in the chat, to rate
// the help they got: 1 to 5 and an optional comment, given once.
import { useState } from 'preact/hooks';
import { rate, type SupportRating } from '../api/chat';
import { describeError } from '../api/form-errors';

const WORDS = ['', 'Poor', 'Fair', 'Good', 'Very good', 'Excellent'] as const;

export function RatingPrompt({
  request,
  onRated,
}: {
  request: SupportRating;
  onRated: (rating: SupportRating) => void;
}) {
  const [rating, setRating] = useState<number | null>(null);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const who = request.admin_name ?? 'the support team';

  async function submit(event: Event) {
    event.preventDefault();
    if (rating === null) {
      setError('Choose a rating from 1 to 5 first.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onRated(await rate({ rating_id: request.id, rating, comment: comment.trim() || null }));
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="rating-prompt" aria-label="Rate the help you got" onSubmit={(event) => void submit(event)}>
      <fieldset>
        <legend>How did {who} help you?</legend>
        {[1, 2, 3, 4, 5].map((value) => (
          <button
            key={value}
            type="button"
            class="rating-star"
            aria-pressed={rating === value}
            aria-label={`${value} of 5: ${WORDS[value]}`}
            onClick={() => setRating(value)}
          >
            {value}★
          </button>
        ))}
      </fieldset>
      <label class="visually-hidden" for="rating-comment">
        A comment (optional)
      </label>
      <textarea
        id="rating-comment"
        maxLength={1000}
        placeholder="A comment (optional)"
        value={comment}
        onInput={(event) => setComment(event.currentTarget.value)}
      />
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="button" disabled={busy}>
        {busy ? 'Sending…' : 'Send rating'}
      </button>
    </form>
  );
}
