import { createContext, useContext } from "react";
import type { SluiceClient } from "@sluice/client-sdk";

/** The page's one client, for what is not a Redux action: opening the socket after sign-in. */
export const ClientContext = createContext<SluiceClient | null>(null);

export function useClient(): SluiceClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("useClient outside <ClientContext.Provider>");
  return client;
}
