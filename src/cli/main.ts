// The `flotilla` command. Every flag has a FLOTILLA_* environment twin; a flag given wins over the environment.
import { Command, Option } from 'commander';
import { ConfigError, type FlotillaOptions } from '../server/config.ts';
import { startFlotilla } from '../server/server.ts';

const program = new Command('flotilla').description('Self-hosted AWS IoT Software Package Catalog and Jobs');

const port = (value: string) => {
  const n = Number(value);
  if (!/^\d+$/.test(value)) throw new ConfigError(`not a port number: ${value}`);
  return n;
};

const mqttPort = (value: string) => (value === 'off' ? 'off' : port(value));

// Commander turns a boolean flag on whenever its variable is set, even to "false": read the value instead.
const envFlag = (name: string) => !/^(|0|false|no|off)$/i.test(process.env[name]?.trim() ?? '');

program
  .command('serve')
  .description('run the server')
  .addOption(new Option('--host <address>', 'address to listen on').env('FLOTILLA_HOST').default('127.0.0.1'))
  .addOption(new Option('--port <port>', 'HTTP port for the AWS APIs (0 picks a free one)').env('FLOTILLA_PORT').default(4580).argParser(port))
  .addOption(new Option('--mqtt-port <port>', 'MQTT port of the embedded broker (0 picks a free one, off for none)').env('FLOTILLA_MQTT_PORT').default(1883).argParser(mqttPort))
  .addOption(new Option('--data-dir <dir>', 'where the embedded store keeps its files').env('FLOTILLA_DATA_DIR').default('./.flotilla'))
  .addOption(new Option('--database <url>', 'sqlite:<file> or postgres://… (default sqlite:<data-dir>/flotilla.db)').env('FLOTILLA_DATABASE'))
  .addOption(new Option('--broker <url>', 'embedded, or mqtt(s)://[user:password@]host:port of an external MQTT 5 broker').env('FLOTILLA_BROKER').default('embedded'))
  .addOption(new Option('--blob <url>', 'embedded, or the URL of an external S3 endpoint').env('FLOTILLA_BLOB').default('embedded'))
  .addOption(new Option('--max-object-size <bytes>', 'largest single PutObject of the embedded S3 endpoint (default 5 GiB)').env('FLOTILLA_MAX_OBJECT_SIZE').argParser(Number))
  .addOption(new Option('--account <id>', 'account of requests whose access key is not a 12-digit account id').env('FLOTILLA_ACCOUNT').default('000000000000'))
  .addOption(new Option('--region <region>', 'region of requests that carry none').env('FLOTILLA_REGION').default('us-east-1'))
  .addOption(new Option('--auth <mode>', 'off: accept any signature; sigv4: verify signatures').choices(['off', 'sigv4']).env('FLOTILLA_AUTH'))
  .addOption(new Option('--credentials <pairs>', 'ACCESS_KEY_ID:SECRET[,…] accepted by --auth sigv4').env('FLOTILLA_CREDENTIALS'))
  .addOption(new Option('--allow-reset', 'allow POST /_flotilla/reset with PostgreSQL too').env('FLOTILLA_ALLOW_RESET'))
  .addOption(new Option('--sbom-formats <list>', 'SBOM formats validation accepts, comma separated (default all)').env('FLOTILLA_SBOM_FORMATS'))
  .addOption(new Option('--sbom-max-object-size <bytes>', 'largest SBOM object (file or zip) validation reads (default 100 MiB)').env('FLOTILLA_SBOM_MAX_OBJECT_SIZE').argParser(Number))
  .addOption(new Option('--sbom-max-file-size <bytes>', 'largest single SBOM file, uncompressed (default 50 MiB)').env('FLOTILLA_SBOM_MAX_FILE_SIZE').argParser(Number))
  .addOption(new Option('--sbom-max-zip-entries <count>', 'most SBOM files in one zip (default 100)').env('FLOTILLA_SBOM_MAX_ZIP_ENTRIES').argParser(Number))
  .addOption(new Option('--sbom-concurrency <count>', 'SBOM validations at the same time, one worker thread each (default 1)').env('FLOTILLA_SBOM_CONCURRENCY').argParser(Number))
  .addOption(new Option('--sbom-timeout-ms <ms>', 'wall-clock limit of one SBOM validation (default 60000)').env('FLOTILLA_SBOM_TIMEOUT_MS').argParser(Number))
  .addOption(new Option('--log-level <level>', 'fatal, error, warn, info, debug').env('FLOTILLA_LOG_LEVEL').default('info'))
  .action(async (opts, command: Command) => {
    const allowReset = command.getOptionValueSource('allowReset') === 'env' ? envFlag('FLOTILLA_ALLOW_RESET') : opts.allowReset;
    const options: FlotillaOptions = { ...opts, allowReset: allowReset ? true : undefined };
    const flotilla = await startFlotilla(options);
    const mqtt = flotilla.mqttUrl ?? 'off';
    process.stdout.write(`flotilla ready api=${flotilla.endpoint} mqtt=${mqtt}\n`);
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      await flotilla.stop();
      process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });

program.parseAsync(process.argv).catch((err) => {
  process.stderr.write(`flotilla: ${err instanceof ConfigError ? err.message : (err?.stack ?? String(err))}\n`);
  process.exit(2);
});
