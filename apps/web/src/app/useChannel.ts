import { useEffect } from "react";
import { sluiceSubscribe, sluiceUnsubscribe } from "@sluice/client-sdk/redux";
import { useAppDispatch } from "./hooks";

/**
 * Holds a subscription to a channel while the calling component is mounted.
 *
 * The unsubscribe waits a tick: when one screen hands a channel to the next (the picker's `org`
 * to the project's, or StrictMode's remount), the new holder subscribes first, so the server
 * subscription never drops and no publication falls into a gap between the two.
 */
export function useChannel(channel: string | null, options: { presence?: boolean } = {}): void {
  const dispatch = useAppDispatch();
  const presence = options.presence ?? false;
  useEffect(() => {
    if (!channel) return;
    dispatch(sluiceSubscribe(channel, { presence }));
    return () => {
      setTimeout(() => dispatch(sluiceUnsubscribe(channel)), 0);
    };
  }, [dispatch, channel, presence]);
}
