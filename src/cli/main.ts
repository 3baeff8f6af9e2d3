// The `flotilla` command. Every flag has a FLOTILLA_* environment twin; a flag given wins over the environment.
// The server is imported only by the command that runs it, so `--help` loads only commander and the config.
import { Command, Option } from 'commander';
import { ConfigError, type FlotillaOptions } from '../server/config.ts';

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
  .addOption(
    new Option('--mqtt-port <port>', 'MQTT port of the embedded broker (0 picks a free one, off for none)')
      .env('FLOTILLA_MQTT_PORT')
      .default(1883)
      .argParser(mqttPort),
  )
  .addOption(new Option('--data-dir <dir>', 'where the embedded store keeps its files').env('FLOTILLA_DATA_DIR').default('./.flotilla'))
  .addOption(new Option('--database <url>', 'sqlite:<file> or postgres://… (default sqlite:<data-dir>/flotilla.db)').env('FLOTILLA_DATABASE'))
  .addOption(
    new Option('--broker <url>', 'embedded, or mqtt(s)://[user:password@]host:port of an external MQTT 5 broker').env('FLOTILLA_BROKER').default('embedded'),
  )
  .addOption(new Option('--blob <url>', 'embedded, or the URL of an external S3 endpoint').env('FLOTILLA_BLOB').default('embedded'))
  .addOption(
    new Option('--max-object-size <bytes>', 'largest single PutObject of the embedded S3 endpoint (default 5 GiB)')
      .env('FLOTILLA_MAX_OBJECT_SIZE')
      .argParser(Number),
  )
  .addOption(new Option('--blob-timeout-ms <ms>', 'deadline of one call to an external S3 (default 5000)').env('FLOTILLA_BLOB_TIMEOUT_MS').argParser(Number))
  .addOption(
    new Option('--shutdown-timeout <seconds>', 'how long SIGTERM waits for in-flight requests before exiting anyway (default 10)')
      .env('FLOTILLA_SHUTDOWN_TIMEOUT')
      .argParser(Number),
  )
  .addOption(
    new Option('--request-timeout-ms <ms>', 'longest time to receive one whole request, headers and body (default 900000)')
      .env('FLOTILLA_REQUEST_TIMEOUT_MS')
      .argParser(Number),
  )
  .addOption(new Option('--account <id>', 'account of requests whose access key is not a 12-digit account id').env('FLOTILLA_ACCOUNT').default('000000000000'))
  .addOption(new Option('--region <region>', 'region of requests that carry none').env('FLOTILLA_REGION').default('us-east-1'))
  .addOption(new Option('--auth <mode>', 'off: accept any signature; sigv4: verify signatures').choices(['off', 'sigv4']).env('FLOTILLA_AUTH'))
  .addOption(new Option('--credentials <pairs>', 'ACCESS_KEY_ID:SECRET[,…] accepted by --auth sigv4').env('FLOTILLA_CREDENTIALS'))
  .addOption(new Option('--allow-reset', 'allow POST /_flotilla/reset with PostgreSQL too').env('FLOTILLA_ALLOW_RESET'))
  .addOption(new Option('--sbom-formats <list>', 'SBOM formats validation accepts, comma separated (default all)').env('FLOTILLA_SBOM_FORMATS'))
  .addOption(
    new Option('--sbom-max-object-size <bytes>', 'largest SBOM object (file or zip) validation reads (default 100 MiB)')
      .env('FLOTILLA_SBOM_MAX_OBJECT_SIZE')
      .argParser(Number),
  )
  .addOption(
    new Option('--sbom-max-file-size <bytes>', 'largest single SBOM file, uncompressed (default 50 MiB)').env('FLOTILLA_SBOM_MAX_FILE_SIZE').argParser(Number),
  )
  .addOption(new Option('--sbom-max-zip-entries <count>', 'most SBOM files in one zip (default 100)').env('FLOTILLA_SBOM_MAX_ZIP_ENTRIES').argParser(Number))
  .addOption(
    new Option('--sbom-concurrency <count>', 'SBOM validations at the same time, one worker thread each (default 1)')
      .env('FLOTILLA_SBOM_CONCURRENCY')
      .argParser(Number),
  )
  .addOption(new Option('--sbom-timeout-ms <ms>', 'wall-clock limit of one SBOM validation (default 60000)').env('FLOTILLA_SBOM_TIMEOUT_MS').argParser(Number))
  .addOption(
    new Option('--time-scale <n>', "rehearsal mode: the rollout engine's clocks run N times faster (default 1)").env('FLOTILLA_TIME_SCALE').argParser(Number),
  )
  .addOption(
    new Option('--max-executions-per-minute <n>', "cap on executions each job releases per minute, like AWS's account quota (default off)")
      .env('FLOTILLA_MAX_EXECUTIONS_PER_MINUTE')
      .argParser(Number),
  )
  .addOption(new Option('--log-level <level>', 'fatal, error, warn, info, debug').env('FLOTILLA_LOG_LEVEL').default('info'))
  .action(async (opts, command: Command) => {
    const allowReset = command.getOptionValueSource('allowReset') === 'env' ? envFlag('FLOTILLA_ALLOW_RESET') : opts.allowReset;
    const options: FlotillaOptions = { ...opts, allowReset: allowReset ? true : undefined };
    const { startFlotilla } = await import('../server/server.ts');
    const flotilla = await startFlotilla(options);
    const mqtt = flotilla.mqttUrl ?? 'off';
    process.stdout.write(`flotilla ready api=${flotilla.endpoint} mqtt=${mqtt}\n`);
    let stopping = false;
    // Drain in-flight requests, but never for longer than --shutdown-timeout: then exit anyway, and say why.
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      const deadline = flotilla.config.shutdownTimeoutMs;
      const timer = setTimeout(() => {
        process.stderr.write(`flotilla: ${signal}: in-flight work did not finish within the shutdown timeout of ${deadline / 1000} s; exiting anyway\n`);
        process.exit(1);
      }, deadline);
      try {
        await flotilla.stop();
      } catch (err) {
        clearTimeout(timer);
        process.stderr.write(`flotilla: ${signal}: stopping failed: ${(err as Error)?.stack ?? String(err)}\n`);
        process.exit(1);
      }
      process.exit(0);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });

const count = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${name} must be a whole number, got ${value}`);
  return n;
};
const fraction = (value: string) => Number(value);

program
  .command('simulate')
  .description('run simulated devices that take jobs over MQTT, with a live progress view')
  .addOption(new Option('--mqtt <url>', 'broker the devices connect to').env('FLOTILLA_SIM_MQTT').default('mqtt://127.0.0.1:1883'))
  .addOption(new Option('--endpoint <url>', 'Flotilla API, for --create-things').env('FLOTILLA_SIM_ENDPOINT').default('http://127.0.0.1:4580'))
  .addOption(new Option('--region <region>', 'region of the API requests').env('AWS_REGION').default('us-east-1'))
  .addOption(new Option('--devices <n>', 'how many devices').default(10).argParser(count('--devices')))
  .addOption(new Option('--prefix <text>', 'thing names are <prefix>0, <prefix>1, …').default('sim-'))
  .addOption(new Option('--connections <n>', 'MQTT connections the devices share (default: one per device, at most 1000)').argParser(count('--connections')))
  .addOption(new Option('--mqtt-version <v>', '4 (MQTT 3.1.1) or 5').default(4).argParser(Number))
  .addOption(new Option('--fail-rate <fraction>', 'share of jobs a device fails').default(0).argParser(fraction))
  .addOption(new Option('--reject-rate <fraction>', 'share of jobs a device rejects').default(0).argParser(fraction))
  .addOption(new Option('--hang-rate <fraction>', 'share of jobs a device starts and never finishes').default(0).argParser(fraction))
  .addOption(new Option('--work-ms <ms>', 'time a device works on a job (each draws 0.5×–1.5×)').default(1000).argParser(count('--work-ms')))
  .addOption(new Option('--progress-steps <n>', 'progress reports in statusDetails per job').default(2).argParser(count('--progress-steps')))
  .option('--no-download', 'do not download the URLs of job documents')
  .option('--no-report-packages', 'do not report installed packages in the $package shadow')
  .option('--create-things', 'create the things through the API first (existing ones are kept)')
  .option('--thing-group <name>', 'with --create-things: put the things in this group (created if missing)')
  .addOption(
    new Option('--exit-when-idle <seconds>', 'exit once jobs ran and nothing happened for this long (0: run until Ctrl-C)')
      .default(0)
      .argParser(count('--exit-when-idle')),
  )
  .action(async (opts) => {
    const { simulate } = await import('../simulate/run.ts');
    await simulate(opts);
  });

program.parseAsync(process.argv).catch((err) => {
  process.stderr.write(`flotilla: ${err instanceof ConfigError || err?.name === 'SimulateError' ? err.message : (err?.stack ?? String(err))}\n`);
  process.exit(2);
});
