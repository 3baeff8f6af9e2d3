// The AWS managed job templates Flotilla serves (read-only): Linux handler and command templates of version 1.0.
// Documents follow the managed-template shape {version, steps[{action{name, type, input, runAsUser}}]}.
import type { Scope } from '../domain/arn.ts';

export interface ManagedParameter {
  key: string;
  description: string;
  /** Matched against the whole value. */
  regex: string;
  example: string;
  optional: boolean;
}

export interface ManagedTemplate {
  name: string;
  version: string;
  description: string;
  environments: string[];
  parameters: ManagedParameter[];
  document: string;
}

const RUN_AS_USER: ManagedParameter = {
  key: 'runAsUser',
  description: 'Optional. The user the device-side handler runs as; empty runs it as the job agent user.',
  regex: '[a-zA-Z0-9_.-]{0,256}',
  example: 'root',
  optional: true,
};

const PATH_TO_HANDLER: ManagedParameter = {
  key: 'pathToHandler',
  description: 'Optional. The directory on the device that holds the handler script; empty uses the agent default.',
  regex: '[^\\p{C}]{0,4096}',
  example: '/home/user/jobs-handlers',
  optional: true,
};

const param = (key: string, description: string, regex: string, example: string): ManagedParameter => ({ key, description, regex, example, optional: false });

const handlerDocument = (name: string, handler: string, args: string[]) =>
  JSON.stringify({
    version: '1.0',
    steps: [
      {
        action: {
          name,
          type: 'runHandler',
          input: { handler, args: args.map((a) => `\${aws:iot:parameter:${a}}`), path: '${aws:iot:parameter:pathToHandler}' },
          runAsUser: '${aws:iot:parameter:runAsUser}',
        },
      },
    ],
  });

const handlerTemplate = (name: string, description: string, handler: string, params: ManagedParameter[]): ManagedTemplate => ({
  name,
  version: '1.0',
  description,
  environments: ['LINUX'],
  parameters: [...params, RUN_AS_USER, PATH_TO_HANDLER],
  document: handlerDocument(
    name.replace(/^AWS-/, ''),
    handler,
    params.map((p) => p.key),
  ),
});

const PACKAGES = param('packages', 'Space-separated names of the packages to act on.', '[a-zA-Z0-9._+:~-]+( [a-zA-Z0-9._+:~-]+)*', 'nginx curl');
const SERVICES = param('services', 'Space-separated names of the services to act on.', '[a-zA-Z0-9._@:-]+( [a-zA-Z0-9._@:-]+)*', 'nginx sshd');

export const MANAGED_TEMPLATES: readonly ManagedTemplate[] = [
  handlerTemplate('AWS-Download-File', 'Downloads a file to a path on the device.', 'download-file.sh', [
    param('downloadUrl', 'The URL to download the file from.', 'https?://[^\\s]{1,2040}', 'https://example.com/firmware.bin'),
    param('filePath', 'The path on the device to write the file to.', '[^\\p{C}]{1,4096}', '/tmp/firmware.bin'),
  ]),
  handlerTemplate('AWS-Install-Application', 'Installs packages with the device package manager.', 'install-packages.sh', [PACKAGES]),
  handlerTemplate('AWS-Reboot', 'Reboots the device.', 'reboot.sh', []),
  handlerTemplate('AWS-Remove-Application', 'Removes packages with the device package manager.', 'remove-packages.sh', [PACKAGES]),
  handlerTemplate('AWS-Restart-Application', 'Restarts services on the device.', 'restart-services.sh', [SERVICES]),
  {
    name: 'AWS-Run-Command',
    version: '1.0',
    description: 'Runs a command on the device without a shell; the command is given as comma-separated arguments.',
    environments: ['LINUX'],
    parameters: [param('command', 'The program and its arguments, separated by commas.', '[^\\p{C}]{1,4096}', 'ls,-la,/tmp'), RUN_AS_USER],
    document: JSON.stringify({
      version: '1.0',
      steps: [
        {
          action: { name: 'Run-Command', type: 'runCommand', input: { command: '${aws:iot:parameter:command}' }, runAsUser: '${aws:iot:parameter:runAsUser}' },
        },
      ],
    }),
  },
  handlerTemplate('AWS-Start-Application', 'Starts services on the device.', 'start-services.sh', [SERVICES]),
  handlerTemplate('AWS-Stop-Application', 'Stops services on the device.', 'stop-services.sh', [SERVICES]),
];

/** Managed templates have no account: arn:aws:iot:<region>::jobtemplate/<name>:<version>. */
export const managedTemplateArn = (scope: Scope, t: ManagedTemplate) => `arn:aws:iot:${scope.region}::jobtemplate/${t.name}:${t.version}`;

/** The template of that name, of `version` or the latest one. */
export function findManagedTemplate(name: string, version?: string): ManagedTemplate | undefined {
  const matches = MANAGED_TEMPLATES.filter((t) => t.name === name && (version === undefined || t.version === version));
  return matches.sort((a, b) => compareVersions(b.version, a.version))[0];
}

/** Reads a managed template ARN (version optional); undefined when it is not one. */
export function parseManagedTemplateArn(arn: string): { name: string; version?: string } | undefined {
  const m = /^arn:aws:iot:[^:]*::jobtemplate\/([^:/]+)(?::([0-9]+\.[0-9]+))?$/.exec(arn);
  return m ? { name: m[1], version: m[2] } : undefined;
}

const compareVersions = (a: string, b: string) => {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
};

/** Problems with documentParameters for a managed template; the values with omitted optional ones set to ''. */
export function checkDocumentParameters(t: ManagedTemplate, given: Record<string, string>): { problems: string[]; values: Record<string, string> } {
  const problems: string[] = [];
  const values: Record<string, string> = {};
  for (const key of Object.keys(given)) {
    if (!t.parameters.some((p) => p.key === key)) problems.push(`documentParameters has '${key}', which ${t.name} does not define`);
  }
  for (const p of t.parameters) {
    const value = given[p.key];
    if (value === undefined) {
      if (!p.optional) problems.push(`documentParameters needs '${p.key}' for ${t.name}`);
      values[p.key] = '';
    } else if (!new RegExp(`^(?:${p.regex})$`, 'u').test(value)) {
      problems.push(`documentParameters '${p.key}' does not match ${p.regex} (example: ${p.example})`);
    } else values[p.key] = value;
  }
  return { problems, values };
}
