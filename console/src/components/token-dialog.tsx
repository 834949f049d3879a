import { useEffect, useRef, useState } from 'preact/hooks';
import { clearToken, getToken, setToken } from '../api/token.js';

/**
 * Asks for the API token (one of `http.apiTokens` on the agent). A native modal <dialog>:
 * focus moves into it, Escape closes it, focus returns to the opener.
 */
export function TokenDialog({
  open,
  reason,
  onClose,
}: {
  open: boolean;
  reason?: string;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [value, setValue] = useState('');
  const [remember, setRemember] = useState(false);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  const has = getToken() !== undefined;
  return (
    <dialog ref={ref} aria-labelledby="token-title" onClose={onClose}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim() !== '') setToken(value.trim(), remember);
          setValue('');
          onClose();
        }}
      >
        <h2 id="token-title">API token</h2>
        {reason ? <p class="warn">{reason}</p> : null}
        <p class="muted">
          Switching outputs and committing or rolling back updates need a token listed in the
          agent's <code>http.apiTokens</code> (make one with <code>edgeflow http token</code>). It
          is sent in the Authorization header only and kept in this browser tab
          {remember ? ' and on this device' : ''}.
        </p>
        <label>
          Token
          <input
            type="password"
            name="token"
            autocomplete="off"
            spellcheck={false}
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
        </label>
        <label>
          <input
            type="checkbox"
            checked={remember}
            onChange={(e) => setRemember(e.currentTarget.checked)}
          />
          Remember on this device
        </label>
        <div class="actions">
          {has ? (
            <button
              type="button"
              class="danger"
              onClick={() => {
                clearToken();
                onClose();
              }}
            >
              Forget token
            </button>
          ) : null}
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary">
            Use token
          </button>
        </div>
      </form>
    </dialog>
  );
}
