// The MQTT jobs device suite again, with Flotilla as a client of the local Mosquitto (`--broker mqtt://127.0.0.1:1883`)
// and the devices connected to Mosquitto, not to Flotilla. `.ci/run` starts Mosquitto when it is down.
process.env.FLOTILLA_TEST_DEVICE_BROKER ??= process.env.FLOTILLA_TEST_BROKER ?? 'mqtt://127.0.0.1:1883';
await import('./jobs-data-mqtt.test.ts');
