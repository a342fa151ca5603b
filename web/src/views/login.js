import { el, field, errorBox, setError } from '../dom.js';
import { api } from '../api.js';
import { session } from '../session.js';
import { wirePassword } from '../password.js';

// Where to go after logging in: back where the login was asked for, else home.
function target(ctx) {
  const r = ctx.query.get('redirect') || '/';
  return r.startsWith('/') && !r.startsWith('/login') && !r.startsWith('/register') ? r : '/';
}

function busy(button, on, label) {
  button.disabled = on;
  button.setAttribute('aria-busy', on ? 'true' : 'false');
  if (label) button.textContent = label;
}

export function loginView(ctx) {
  const username = el('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const password = el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = errorBox(ctx.query.get('notice') || '');
  const submit = el('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = el(
    'form',
    {
      class: 'panel narrow',
      'aria-labelledby': 'login-h',
      onsubmit: async (e) => {
        e.preventDefault();
        setError(error, '');
        busy(submit, true, 'Logging in…');
        try {
          await session.login(username.value.trim(), password.value);
          ctx.toast(`Welcome, ${session.username()}.`);
          ctx.go(target(ctx));
        } catch (err) {
          setError(error, err.status === 400 ? 'Wrong user name or password.' : err.message);
          busy(submit, false, 'Log in');
        }
      },
    },
    el('h1', { id: 'login-h' }, 'Log in'),
    error,
    field('User name', username),
    field('Password', password),
    submit,
    el('p', {}, 'New here? ', el('a', { href: `#/register${ctx.query.get('redirect') ? `?redirect=${encodeURIComponent(ctx.query.get('redirect'))}` : ''}` }, 'Create an account')),
  );
  return form;
}

export function registerView(ctx) {
  const input = (name, attrs = {}) => el('input', { name, required: true, ...attrs });
  const username = input('username', { autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', maxlength: '50' });
  const name = input('name', { autocomplete: 'name', maxlength: '50' });
  const password = input('password', { type: 'password', autocomplete: 'new-password', minlength: '6' });
  const confirm = input('confirm', { type: 'password', autocomplete: 'new-password', minlength: '6' });
  const email = input('email', { type: 'email', autocomplete: 'email', maxlength: '100' });
  // The contract's pattern for a mainland China mobile number.
  const telephone = input('telephone', { type: 'tel', autocomplete: 'tel', pattern: '1\\d{10}', inputmode: 'numeric' });
  const error = errorBox('');
  const submit = el('button', { type: 'submit', class: 'primary' }, 'Create account');
  return el(
    'form',
    {
      class: 'panel narrow',
      'aria-labelledby': 'register-h',
      onsubmit: async (e) => {
        e.preventDefault();
        setError(error, '');
        if (password.value !== confirm.value) {
          setError(error, 'The two passwords differ.');
          confirm.focus();
          return;
        }
        busy(submit, true, 'Creating…');
        try {
          await api.register({
            username: username.value.trim(),
            name: name.value.trim(),
            password: await wirePassword(password.value),
            email: email.value.trim(),
            telephone: telephone.value.trim(),
          });
          // Registered: log straight in, as the Fenix frontend does.
          await session.login(username.value.trim(), password.value);
          ctx.toast(`Welcome, ${session.username()}. Your account is ready.`);
          ctx.go(target(ctx));
        } catch (err) {
          setError(error, err.message);
          busy(submit, false, 'Create account');
        }
      },
    },
    el('h1', { id: 'register-h' }, 'Create an account'),
    error,
    field('User name', username),
    field('Full name', name),
    field('Password', password, 'At least 6 characters.'),
    field('Repeat the password', confirm),
    field('Email', email),
    field('Mobile number', telephone, '11 digits starting with 1, e.g. 13800138000.'),
    submit,
    el('p', {}, 'Have an account? ', el('a', { href: '#/login' }, 'Log in')),
  );
}
