import { useState, type FormEvent } from "react";
import { api, ApiError } from "../api";
import type { Me } from "../types";

export function Login({ onLoggedIn }: { onLoggedIn: (me: Me) => void }) {
  const [login, setLogin] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      await api.login(login.trim(), password);
      onLoggedIn(await api.me());
    } catch (err) {
      setError(
        err instanceof ApiError
          ? err.status === 401
            ? "Wrong login name or password."
            : err.message
          : "The server cannot be reached.",
      );
      setBusy(false);
    }
  };

  return (
    <div className="login-page">
      <form className="card login" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Parley</h1>
        <label>
          Login
          <input
            name="login"
            autoComplete="username"
            autoFocus
            required
            value={login}
            onChange={(e) => setLogin(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
    </div>
  );
}
