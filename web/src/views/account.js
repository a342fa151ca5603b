import { el, field, errorBox, setError } from '../dom.js';
import { api } from '../api.js';
import { session } from '../session.js';

/** The logged-in user's account, editable (PUT /restful/accounts replaces it whole). */
export async function accountView(ctx) {
  const account = await api.account(session.username());
  if (!account) throw new Error('Your account could not be found.');
  session.setAccount(account);

  const input = (name, attrs = {}) => el('input', { name, value: account[name] || '', ...attrs });
  const name = input('name', { autocomplete: 'name', required: true });
  const email = input('email', { type: 'email', autocomplete: 'email', required: true });
  const telephone = input('telephone', { type: 'tel', autocomplete: 'tel', pattern: '1\\d{10}', required: true });
  const location = input('location', { autocomplete: 'street-address' });
  const error = errorBox('');
  const submit = el('button', { type: 'submit', class: 'primary' }, 'Save changes');
  const initials = (account.name || account.username || '?').trim().slice(0, 1).toUpperCase();

  return el(
    'section',
    { class: 'account' },
    el('h1', {}, 'Your account'),
    el(
      'div',
      { class: 'profile' },
      el('span', { class: 'avatar', 'aria-hidden': 'true' }, initials),
      el('div', {}, el('p', { class: 'who-big', 'data-testid': 'account-name' }, account.name || account.username), el('p', { class: 'muted' }, `@${account.username}`, session.isAdmin() ? ' · administrator' : '')),
    ),
    el(
      'form',
      {
        class: 'panel',
        'aria-label': 'Account details',
        onsubmit: async (e) => {
          e.preventDefault();
          setError(error, '');
          submit.disabled = true;
          try {
            // The whole account goes back with the caller's id. This server
            // keeps the stored password when none is sent; the original
            // Fenix backend sends its hash and overwrites it with whatever
            // comes back, so a hash we were given goes back unchanged.
            const next = {
              ...(account.password ? { password: account.password } : {}),
              id: account.id,
              username: account.username,
              name: name.value.trim(),
              avatar: account.avatar || '',
              email: email.value.trim(),
              telephone: telephone.value.trim(),
              location: location.value.trim(),
            };
            await api.updateAccount(next);
            session.setAccount({ ...account, ...next });
            ctx.toast('Your account is saved.');
          } catch (err) {
            setError(error, err.message);
          } finally {
            submit.disabled = false;
          }
        },
      },
      field('User name', el('input', { value: account.username, readonly: true, 'aria-readonly': 'true' })),
      field('Full name', name),
      field('Email', email),
      field('Mobile number', telephone),
      field('Address', location),
      error,
      submit,
    ),
  );
}
