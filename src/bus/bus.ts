// Opens the bus the configuration asks for: an external broker (--broker), the embedded one on --mqtt-port, or none.
import type { Logger } from 'pino';
import type { FlotillaConfig } from '../server/config.ts';
import type { Authorizer } from './authorizer.ts';
import { EmbeddedBus } from './embedded.ts';
import { ExternalBus } from './external.ts';
import type { BusEvents } from './events.ts';
import type { OutgoingMessage, TopicHandler } from './types.ts';

export interface BusSetup {
  config: FlotillaConfig;
  authorizer: Authorizer;
  handlers: readonly TopicHandler[];
  events: BusEvents;
  /** Retained messages of the default scope, held by the embedded broker from the start. */
  retained: readonly OutgoingMessage[];
  log: Logger;
}

/** The bus, or undefined when MQTT is off. */
export async function openBus(setup: BusSetup): Promise<EmbeddedBus | ExternalBus | undefined> {
  const { config } = setup;
  if (config.broker !== 'embedded') {
    return ExternalBus.connect({ url: config.broker, scope: { account: config.account, region: config.region }, handlers: setup.handlers, log: setup.log });
  }
  if (config.mqttPort === 'off') return undefined;
  return EmbeddedBus.start({
    host: config.host,
    port: config.mqttPort,
    authorizer: setup.authorizer,
    handlers: setup.handlers,
    events: setup.events,
    retained: setup.retained,
    log: setup.log,
  });
}
