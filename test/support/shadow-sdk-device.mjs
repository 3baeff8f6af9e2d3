// A device built on the unmodified aws-iot-device-sdk-v2 `iotshadow` client over its MQTT 5 client (plain TCP).
// It runs as a child process of test/shadows-mqtt.test.ts because a process that has used an aws-crt client does not
// exit on its own (the test runner would wait for it). It prints one JSON line per step on stdout and waits for a line
// on stdin before the step that needs the test to act (an HTTP update).
// Usage: node shadow-sdk-device.mjs <mqtt://host:port> <thingName>
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { iotshadow, mqtt5 } from 'aws-iot-device-sdk-v2';

const [url, thingName] = process.argv.slice(2);
const { hostname, port } = new URL(url);
const say = (step, value) => process.stdout.write(`${JSON.stringify({ step, ...value })}\n`);
const failure = (err) => ({ code: err?.modeledError?.code, message: err?.modeledError?.message ?? String(err?.message ?? err) });
const input = createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => input.once('line', resolve));

const client = new mqtt5.Mqtt5Client({
  hostName: hostname,
  port: Number(port),
  connectProperties: { clientId: `sdk-${thingName}`, keepAliveIntervalSeconds: 60 },
});
const connected = once(client, 'connectionSuccess');
client.start();
await connected;
const shadow = iotshadow.IotShadowClientv2.newFromMqtt5(client, {
  maxRequestResponseSubscriptions: 6,
  maxStreamingSubscriptions: 4,
  operationTimeoutInSeconds: 10,
});

// Named shadow: not found, create, get, a stale version, delete.
const shadowName = 'config';
const named = {};
named.notFound = await shadow.getNamedShadow({ thingName, shadowName }).then(() => 'found', failure);
const doc = { color: 'green', on: true };
named.updated = await shadow.updateNamedShadow({ thingName, shadowName, state: { desired: doc, reported: doc } });
named.got = await shadow.getNamedShadow({ thingName, shadowName });
named.conflict = await shadow.updateNamedShadow({ thingName, shadowName, state: { reported: { on: false } }, version: 7 }).then(() => 'accepted', failure);
named.deleted = await shadow.deleteNamedShadow({ thingName, shadowName });
say('named', named);

// Classic shadow: report, then listen on the delta and updated streams while the test changes desired over HTTP.
await shadow.updateShadow({ thingName, state: { reported: { temp: 20 } } });
const deltas = [];
const updates = [];
const deltaStream = shadow.createShadowDeltaUpdatedStream({ thingName });
const updatedStream = shadow.createShadowUpdatedStream({ thingName });
const subscribed = Promise.all([deltaStream, updatedStream].map((s) => once(s, 'subscriptionStatus')));
deltaStream.on('incomingPublish', (e) => deltas.push(e.message));
updatedStream.on('incomingPublish', (e) => updates.push(e.message));
deltaStream.open();
updatedStream.open();
await subscribed;
say('ready', {});
await nextLine();
const deadline = Date.now() + 5000;
const second = () => updates.find((u) => u.current?.version === 2);
while ((deltas.length === 0 || !second()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
say('classic', { deltas, updated: second() ?? null, got: await shadow.getShadow({ thingName }) });

deltaStream.close();
updatedStream.close();
shadow.close();
const stopped = once(client, 'stopped');
client.stop();
await stopped;
client.close();
input.close();
// aws-crt keeps native handles that hold the event loop open after a stopped client is closed: end explicitly.
process.exit(0);
