import { observable } from '../lib/observable';

/** Whether the browser thinks it has a network. */
export const online = observable(navigator.onLine);
window.addEventListener('online', () => online.set(true));
window.addEventListener('offline', () => online.set(false));
