// The shell: login, then the screens the user's roles allow (hash routes #/desktop,
// #/wallboard, #/agents, #/reports, #/staffing, #/recordings, #/admin, #/tv; a route may carry a query after
// "?", e.g. #/recordings?contact=17), with a navigation bar except in TV mode.
import { lazy, Suspense, useCallback, useEffect, useState } from "react";
import { api, ApiError, sessionEndedEvent } from "./api";
import { homeScreen, isWallboardOnly, mayOpen, screenTitles, screensFor, type Screen } from "./roles";
import type { Me } from "./types";
import { Login } from "./screens/Login";
import { AgentDesktop } from "./screens/AgentDesktop";
import { Wallboard } from "./screens/Wallboard";
import { AgentGrid } from "./screens/AgentGrid";
import { Reports } from "./screens/Reports";
import { Recordings } from "./screens/Recordings";
import { Staffing } from "./screens/Staffing";

// The administration screens carry the YAML library: loaded when opened, never on a desktop.
const Admin = lazy(() => import("./screens/Admin").then((m) => ({ default: m.Admin })));

// Set while a session is believed open, so a fresh visit does not ask /me only to be told 401
// (which the browser would log as an error).
const sessionFlag = "parley.session";

function useHash(): [string, (h: string) => void] {
  const [hash, setHash] = useState(() => location.hash.replace(/^#\/?/, ""));
  useEffect(() => {
    const on = () => setHash(location.hash.replace(/^#\/?/, ""));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return [hash, (h: string) => (location.hash = `#/${h}`)];
}

export function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);  // undefined: not known yet
  const [hash, go] = useHash();

  useEffect(() => {
    if (!localStorage.getItem(sessionFlag)) {
      setMe(null);
      return;
    }
    api
      .me()
      .then(setMe)
      .catch(() => {
        localStorage.removeItem(sessionFlag);
        setMe(null);
      });
  }, []);

  useEffect(() => {
    const ended = () => {
      localStorage.removeItem(sessionFlag);
      setMe(null);
    };
    addEventListener(sessionEndedEvent, ended);
    return () => removeEventListener(sessionEndedEvent, ended);
  }, []);

  const loggedIn = useCallback(
    (m: Me) => {
      localStorage.setItem(sessionFlag, "1");
      setMe(m);
      const home = homeScreen(m);
      if (home && !mayOpen(m, hash.split("?")[0] as Screen)) go(home);
    },
    [hash, go],
  );

  const logout = useCallback(() => {
    api
      .logout()
      .catch((e: unknown) => {
        if (!(e instanceof ApiError)) throw e;
      })
      .finally(() => {
        localStorage.removeItem(sessionFlag);
        setMe(null);
        history.replaceState(null, "", location.pathname);
      });
  }, []);

  if (me === undefined) return <div className="splash" aria-busy="true">Parley</div>;
  if (me === null) return <Login onLoggedIn={loggedIn} />;

  const home = homeScreen(me);
  const route = hash.split("?")[0] as Screen;
  const screen = (mayOpen(me, route) ? route : home) as Screen | null;
  if (screen === "tv") {
    return <Wallboard me={me} tv onExit={isWallboardOnly(me) ? logout : () => go("wallboard")} />;
  }
  const name = me.user?.display_name || me.login;
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">Parley</span>
        <nav aria-label="Screens">
          {screensFor(me).map((s) => (
            <a key={s} href={`#/${s}`} aria-current={s === screen ? "page" : undefined}>
              {screenTitles[s]}
            </a>
          ))}
        </nav>
        <span className="user" title={me.roles.join(", ")}>
          {name}
        </span>
        <button type="button" className="link" onClick={logout}>
          Log out
        </button>
      </header>
      <main>
        {screen === "desktop" && <AgentDesktop me={me} />}
        {screen === "wallboard" && <Wallboard me={me} onTv={() => go("tv")} />}
        {screen === "agents" && <AgentGrid me={me} />}
        {screen === "reports" && <Reports me={me} />}
        {screen === "staffing" && <Staffing />}
        {screen === "recordings" && <Recordings key={hash} me={me} hash={hash} />}
        {screen === "admin" && (
          <Suspense fallback={<p className="muted">Loading…</p>}>
            <Admin me={me} />
          </Suspense>
        )}
        {screen === null && (
          <p className="empty">Your roles ({me.roles.join(", ")}) have no screen in this version yet.</p>
        )}
      </main>
    </div>
  );
}
