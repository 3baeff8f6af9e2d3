// Hands a device's request to the first topic handler that serves its topic and returns the replies to publish.
import type { Logger } from 'pino';
import { isRequestTopic } from './topics.ts';
import type { DeviceMessage, OutgoingMessage, TopicHandler } from './types.ts';

export class TopicRouter {
  constructor(
    private readonly handlers: readonly TopicHandler[],
    private readonly log: Logger,
  ) {}

  /** The replies to `message`, [] when no handler serves its topic. A failing handler is logged, never thrown. */
  async route(message: DeviceMessage): Promise<OutgoingMessage[]> {
    if (!isRequestTopic(message.topic)) return [];
    const handler = this.handlers.find((h) => h.accepts(message.topic));
    if (!handler) return [];
    try {
      return await handler.handle(message);
    } catch (err) {
      this.log.error({ err, topic: message.topic, clientId: message.clientId }, 'topic handler failed');
      return [];
    }
  }
}
