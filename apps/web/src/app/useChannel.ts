import { useEffect } from "react";
import { sluiceSubscribe, sluiceUnsubscribe } from "@sluice/client-sdk/redux";
import { useAppDispatch } from "./hooks";

/** Holds a subscription to a channel while the calling component is mounted. */
export function useChannel(channel: string | null, options: { presence?: boolean } = {}): void {
  const dispatch = useAppDispatch();
  const presence = options.presence ?? false;
  useEffect(() => {
    if (!channel) return;
    dispatch(sluiceSubscribe(channel, { presence }));
    return () => {
      dispatch(sluiceUnsubscribe(channel));
    };
  }, [dispatch, channel, presence]);
}
