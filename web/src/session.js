// The logged-in user, kept in sessionStorage as the Fenix frontend does: the
// token answer plus its absolute expiry. The token is refreshed shortly
// before it expires; a failed refresh ends the session.
import { token, api } from './api.js';
import { wirePassword } from './password.js';

const KEY = 'bookstore.session';
const ACCOUNT_KEY = 'bookstore.account';
// Refresh this long before the access token expires.
const REFRESH_MARGIN_MS = 60_000;

const listeners = new Set();
let refreshTimer = null;
let lastNotice = '';

function read(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) || 'null');
  } catch {
    return null;
  }
}

function write(key, value) {
  if (value === null) sessionStorage.removeItem(key);
  else sessionStorage.setItem(key, JSON.stringify(value));
}

function emit() {
  for (const fn of listeners) fn();
}

function store(answer) {
  const s = {
    access_token: answer.access_token,
    refresh_token: answer.refresh_token,
    expires: Date.now() + Number(answer.expires_in || 0) * 1000,
    authorities: answer.authorities || [],
    username: answer.username,
  };
  write(KEY, s);
  schedule(s);
  return s;
}

function schedule(s) {
  clearTimeout(refreshTimer);
  if (!s || !s.refresh_token) return;
  const wait = Math.max(1000, s.expires - Date.now() - REFRESH_MARGIN_MS);
  // setTimeout holds at most ~24.8 days.
  refreshTimer = setTimeout(refresh, Math.min(wait, 2 ** 31 - 1));
}

async function refresh() {
  const s = read(KEY);
  if (!s) return;
  try {
    store(await token({ grant_type: 'refresh_token', refresh_token: s.refresh_token }));
    emit();
  } catch {
    session.clear('Your session has expired. Please log in again.');
  }
}

export const session = {
  /** The current session, or null (none, or expired by the client's clock). */
  current() {
    const s = read(KEY);
    if (!s || s.expires <= Date.now()) return null;
    return s;
  },
  accessToken() {
    return this.current()?.access_token || null;
  },
  username() {
    return this.current()?.username || null;
  },
  /** Authorities decide what the user may see (the admin menu needs ROLE_ADMIN). */
  hasAuthority(role) {
    return (this.current()?.authorities || []).includes(role);
  },
  isAdmin() {
    return this.hasAuthority('ROLE_ADMIN');
  },
  /** The account of the logged-in user as last read from the server. */
  account() {
    return this.current() ? read(ACCOUNT_KEY) : null;
  },
  setAccount(account) {
    write(ACCOUNT_KEY, account);
    emit();
  },

  async login(username, plainPassword) {
    const password = await wirePassword(plainPassword);
    const answer = await token({ grant_type: 'password', username, password });
    store(answer);
    lastNotice = '';
    try {
      write(ACCOUNT_KEY, await api.account(answer.username));
    } catch {
      write(ACCOUNT_KEY, null);
    }
    emit();
    return answer;
  },

  /** Ends the session; notice, when given, is shown on the next page. */
  clear(notice = '') {
    clearTimeout(refreshTimer);
    write(KEY, null);
    write(ACCOUNT_KEY, null);
    lastNotice = notice;
    emit();
  },

  /** A message about how the last session ended, read once. */
  takeNotice() {
    const n = lastNotice;
    lastNotice = '';
    return n;
  },

  subscribe(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },

  /** Re-arms the refresh timer after a page load. */
  resume() {
    schedule(this.current());
  },
};
