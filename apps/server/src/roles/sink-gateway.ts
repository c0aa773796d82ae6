import { RedisBroker } from "@sluice/broker";
import { KafkaEventBus } from "@sluice/bus/kafka";
import { channelsOf } from "@sluice/dispatch";
import { startSinkGateway } from "@sluice/sink-gateway";
import type { SinkGatewayConfig } from "./config";
import { kafkaBusOptions, startRole, type RunningRole } from "./role-process";

/**
 * The sink gateway of the scale-out shape: a member of the `sink-gateway` consumer group on the
 * contexts' events topics (members split the partitions, so one stream's events go through one
 * member in order), picks each event's channels and publishes it through Redis, which gives it
 * its position and keeps the channel's bounded history. It needs no database: channels follow
 * from the event alone.
 */
export function startSinkGatewayRole(config: SinkGatewayConfig): Promise<RunningRole> {
  return startRole(config, async ({ app, cleanups }) => {
    const broker = await RedisBroker.connect({
      ...config.redis,
      onError: (error) => app.log.warn({ err: error }, "redis"),
    });
    cleanups.push(() => broker.close());
    const eventBus = await KafkaEventBus.open(kafkaBusOptions(config.kafka, config.role));
    cleanups.push(() => eventBus.close());
    const sink = await startSinkGateway({
      bus: eventBus,
      broker,
      channelsOf,
      onError: (error, event) => app.log.error({ err: error, event: event.type }, "publishing failed"),
    });
    cleanups.push(() => sink.stop());
  });
}
