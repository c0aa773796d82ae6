import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Provider } from "react-redux";
import { BrowserRouter } from "react-router";
import { createClient } from "@sluice/client-sdk";
import "@sluice/design-system/styles.css";
import "./app/app.css";
import { App } from "./app/App";
import { ClientContext } from "./app/clientContext";
import { makeStore } from "./app/store";
import { socketToken } from "./session/authApi";
import { keepSession } from "./session/keepSession";

// One socket per page, opened once a session exists (the cookie authenticates the upgrade); the
// token function re-authenticates it in band with a refreshed token before the session expires.
const client = createClient({
  url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`,
  autoConnect: false,
  token: socketToken,
});
const store = makeStore(client);
keepSession(client, store);

// Back online: try now instead of waiting out the backoff.
window.addEventListener("online", () => {
  if (store.getState().session.status === "signedIn") client.reconnect();
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Provider store={store}>
      <ClientContext.Provider value={client}>
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </ClientContext.Provider>
    </Provider>
  </StrictMode>,
);
