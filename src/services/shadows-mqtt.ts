// Device shadows over MQTT: `$aws/things/{thing}/shadow[/name/{shadowName}]/{get,update,delete}` answered on
// `/accepted` or `/rejected` with AWS's documents. `/update/delta` and `/update/documents` follow the commit as
// effects (src/services/shadows.ts). Bad input of any kind gets AWS's error document, never a crash.
import type { Logger } from 'pino';
import type { DeviceMessage, OutgoingMessage, TopicHandler } from '../bus/types.ts';
import { clientTokenOf, errorDocument, parsePayload, parseTokenRequest, ShadowError, type JsonObject } from '../domain/shadows.ts';
import type { Store } from '../store/store.ts';
import { deleteShadow, readShadow, shadowTopic, updateShadow } from './shadows.ts';

const REQUEST_TOPIC = /^\$aws\/things\/([^/]+)\/shadow(?:\/name\/([^/]+))?\/(get|update|delete)$/;
const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const SHADOW_NAME = /^[$a-zA-Z0-9:_-]{1,64}$/;

export interface ShadowTopicDeps {
  store: Store;
  log?: Logger;
}

export function shadowTopicHandler(deps: ShadowTopicDeps): TopicHandler {
  const { store, log } = deps;
  return {
    accepts: (topic) => REQUEST_TOPIC.test(topic),

    async handle(message: DeviceMessage): Promise<OutgoingMessage[]> {
      const [, thingName, shadowName = '', operation] = REQUEST_TOPIC.exec(message.topic) ?? [];
      if (!operation) return [];
      const reply = (outcome: 'accepted' | 'rejected', doc: JsonObject): OutgoingMessage[] => [
        { topic: shadowTopic(thingName, shadowName, `${operation}/${outcome}`), payload: JSON.stringify(doc) },
      ];
      const now = Date.now();
      let clientToken: string | undefined;
      try {
        clientToken = tokenOf(message.payload);
        if (!THING_NAME.test(thingName)) throw new ShadowError(400, `Invalid thing name: ${thingName}`);
        if (shadowName !== '' && !SHADOW_NAME.test(shadowName)) throw new ShadowError(400, `Invalid shadow name: ${shadowName}`);
        const { scope, payload } = message;
        if (operation === 'update')
          return reply('accepted', await store.transaction((tx) => updateShadow(tx, scope, thingName, shadowName, payload, now, 'mqtt')));
        const request = parseTokenRequest(payload);
        if (operation === 'get') return reply('accepted', await readShadow(store.db, scope, thingName, shadowName, now, request.clientToken));
        return reply('accepted', await store.transaction((tx) => deleteShadow(tx, scope, thingName, shadowName, now, 'mqtt', request.clientToken)));
      } catch (err) {
        if (!(err instanceof ShadowError)) log?.error({ err, topic: message.topic }, 'shadow request failed');
        const refusal = err instanceof ShadowError ? err : new ShadowError(500, 'Internal service failure');
        return reply('rejected', errorDocument(refusal, now, clientToken));
      }
    },
  };
}

/** The request's clientToken when its payload is readable, so that even a refusal echoes it. */
function tokenOf(payload: Buffer): string | undefined {
  try {
    return payload.length ? clientTokenOf(parsePayload(payload)) : undefined;
  } catch {
    return undefined;
  }
}
