// iot-data's MQTT operations over HTTPS: Publish (HTTP → MQTT), ListRetainedMessages and GetRetainedMessage.
// A Publish is written as an effect in the request's transaction and published after the commit; a retained one
// is also kept as the topic's durable retained message (an empty payload deletes it, as in MQTT).
import { randomUUID } from 'node:crypto';
import { decodePageToken, pageOf } from '../domain/pagination.ts';
import { invalidRequest, notFound, ServiceError } from '../protocol/errors.ts';
import { effects } from '../store/effects.ts';
import { retained } from '../store/mqtt.ts';
import type { HandlerMap, RequestContext } from './context.ts';

interface PublishInput {
  topic: string;
  qos?: number;
  retain?: boolean;
  payload?: Buffer;
  userProperties?: unknown;
}

/** A topic one may publish to: not empty, no wildcards, at most 256 bytes, and allowed by the authorizer. */
function checkTopic(topic: string, ctx: RequestContext): void {
  if (topic.length === 0 || topic.includes('#') || topic.includes('+')) throw invalidRequest(`Invalid topic name: ${topic}`);
  if (Buffer.byteLength(topic) > 256) throw invalidRequest('The topic name must be at most 256 bytes');
  const authorizer = ctx.server.authorizer;
  const caller = { clientId: '', sessionIdentifier: randomUUID(), ipAddress: '', transport: 'https' as const };
  if (authorizer && !authorizer.publish(caller, topic)) throw new ServiceError('UnauthorizedException', `Not authorized to publish to ${topic}`);
}

export const iotDataHandlers: HandlerMap = {
  async Publish(input: PublishInput, ctx) {
    const topic = input.topic;
    checkTopic(topic, ctx);
    const payload = input.payload ?? Buffer.alloc(0);
    const qos = input.qos === 1 ? 1 : 0;
    if (input.retain) {
      const userProperties = input.userProperties === undefined ? null : JSON.stringify(input.userProperties);
      await retained.put(ctx.db, ctx.scope, topic, payload, qos, userProperties, ctx.now.getTime());
    }
    await effects.emit(ctx.db, ctx.scope, [
      {
        kind: 'mqtt.publish',
        subject: topic,
        payload: { topic, payload: payload.toString('base64'), base64: true, qos, retain: input.retain ?? false, asRequest: true },
      },
    ]);
    return {};
  },

  async GetRetainedMessage(input: { topic: string }, ctx) {
    const row = await retained.get(ctx.db, ctx.scope, input.topic);
    if (!row) throw notFound(`No retained message found for topic ${input.topic}`);
    return {
      topic: row.topic,
      payload: row.payload,
      qos: row.qos,
      lastModifiedTime: row.updated_at,
      userProperties: row.user_properties === null ? undefined : Buffer.from(row.user_properties),
    };
  },

  async ListRetainedMessages(input: { nextToken?: string; maxResults?: number }, ctx) {
    const limit = input.maxResults ?? 200;
    let after: string | undefined;
    if (input.nextToken !== undefined) {
      const key = decodePageToken('retained', input.nextToken);
      if (!key) throw invalidRequest('The nextToken is not valid');
      after = key[0];
    }
    const rows = await retained.list(ctx.db, ctx.scope, after, limit + 1);
    const page = pageOf(rows, limit, 'retained', (r) => [r.topic]);
    return {
      retainedTopics: page.items.map((r) => ({ topic: r.topic, payloadSize: r.payload.length, qos: r.qos, lastModifiedTime: r.updated_at })),
      nextToken: page.nextToken,
    };
  },
};
