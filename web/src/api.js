// The public contract, and nothing else: REST under /restful, tokens from
// /oauth/token (relative URLs, so the storefront works in front of any
// Fenix-compatible backend).
import { session } from './session.js';

const CLIENT_ID = 'bookstore_frontend';
const CLIENT_SECRET = 'bookstore_secret';

/** An answer other than success, with the server's message when it sent one. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

// The three error shapes of the contract (§2.3): Spring OAuth2's
// {error, error_description}, the CodedMessage {code, message} and Spring
// Boot's {error, message}.
function messageOf(status, data) {
  if (data && typeof data === 'object') {
    if (data.error_description) return data.error_description;
    if (data.message) return data.message;
    if (data.error) return data.error;
  }
  if (status === 0) return 'The store cannot be reached. Check your connection and try again.';
  return `The server answered HTTP ${status}.`;
}

async function send(url, init) {
  let res;
  try {
    res = await fetch(url, init);
  } catch {
    throw new ApiError(0, messageOf(0));
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) throw new ApiError(res.status, messageOf(res.status, data), data);
  // A 2xx CodedMessage with a non-zero code is a failure too.
  if (data && !Array.isArray(data) && typeof data.code === 'number' && data.code !== 0) {
    throw new ApiError(res.status, messageOf(res.status, data), data);
  }
  return data;
}

async function rest(method, path, { body, query } = {}) {
  let url = `/restful${path}`;
  if (query) url += `?${new URLSearchParams(query)}`;
  const headers = { Accept: 'application/json' };
  const token = session.accessToken();
  if (token) headers.Authorization = `bearer ${token}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  try {
    return await send(url, init);
  } catch (e) {
    // A token the server no longer accepts: drop it, the user logs in again.
    if (e instanceof ApiError && e.status === 401 && token) session.clear('Your session has expired. Please log in again.');
    throw e;
  }
}

/** Token requests go to /oauth/token by GET with query parameters, as the Fenix frontend does. */
export function token(params) {
  const query = new URLSearchParams({ ...params, client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
  return send(`/oauth/token?${query}`, { method: 'GET', headers: { Accept: 'application/json' } });
}

const id = (v) => encodeURIComponent(String(v));

export const api = {
  products: () => rest('GET', '/products'),
  product: (pid) => rest('GET', `/products/${id(pid)}`),
  advertisements: () => rest('GET', '/advertisements'),

  account: (username) => rest('GET', `/accounts/${id(username)}`),
  register: (account) => rest('POST', '/accounts', { body: account }),
  updateAccount: (account) => rest('PUT', '/accounts', { body: account }),

  settle: (settlement) => rest('POST', '/settlements', { body: settlement }),
  pay: (payId) => rest('PATCH', `/pay/${id(payId)}`, { query: { state: 'PAYED' } }),
  cancel: (payId) => rest('PATCH', `/pay/${id(payId)}`, { query: { state: 'CANCEL' } }),

  stockpile: (pid) => rest('GET', `/products/stockpile/${id(pid)}`),
  setStock: (pid, amount) => rest('PATCH', `/products/stockpile/${id(pid)}`, { query: { amount } }),
  createProduct: (product) => rest('POST', '/products', { body: product }),
  updateProduct: (product) => rest('PUT', '/products', { body: product }),
  deleteProduct: (pid) => rest('DELETE', `/products/${id(pid)}`),
};
