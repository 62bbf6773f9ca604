import { useObservable } from '../lib/use-observable';
import { nextThemeChoice, themeChoice, type ThemeChoice } from '../theme/theme';

const NAMES: Record<ThemeChoice, string> = { system: 'Auto', light: 'Light', dark: 'Dark' };
const ICONS: Record<ThemeChoice, string> = { system: '◐', light: '☀', dark: '☾' };

/** Cycles Auto (the system's setting) → Light → Dark. */
export function ThemeToggle() {
  const choice = useObservable(themeChoice);
  const next = nextThemeChoice(choice);
  return (
    <button
      type="button"
      class="button button--quiet"
      onClick={() => themeChoice.set(next)}
      aria-label={`Theme: ${NAMES[choice]}. Switch to ${NAMES[next]}`}
      title={`Switch to ${NAMES[next]} theme`}
    >
      <span aria-hidden="true">{ICONS[choice]}</span> <span class="theme-toggle-name">{NAMES[choice]}</span>
    </button>
  );
}
