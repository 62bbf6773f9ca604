// Light or dark: by default the system's setting (CSS prefers-color-scheme); a choice made with
// the toggle is remembered on this device and wins over it.
import { observable } from '../lib/observable';

export type ThemeChoice = 'system' | 'light' | 'dark';

const STORAGE_KEY = 'ems.theme';
const CHOICES: readonly ThemeChoice[] = ['system', 'light', 'dark'];

function stored(): ThemeChoice {
  try {
    const value = window.localStorage.getItem(STORAGE_KEY);
    return CHOICES.find((choice) => choice === value) ?? 'system';
  } catch {
    return 'system';
  }
}

export const themeChoice = observable<ThemeChoice>(stored());

function apply(choice: ThemeChoice) {
  const root = document.documentElement;
  if (choice === 'system') delete root.dataset['theme'];
  else root.dataset['theme'] = choice;
}

apply(themeChoice.get());
themeChoice.subscribe((choice) => {
  apply(choice);
  try {
    if (choice === 'system') window.localStorage.removeItem(STORAGE_KEY);
    else window.localStorage.setItem(STORAGE_KEY, choice);
  } catch {
    // Not remembered across visits, but applied for this one.
  }
});

export function nextThemeChoice(choice: ThemeChoice): ThemeChoice {
  return CHOICES[(CHOICES.indexOf(choice) + 1) % CHOICES.length]!;
}
