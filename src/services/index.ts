// Every handler, by service and operation name.
import type { ServiceName } from '../protocol/model.ts';
import type { HandlerMap } from './context.ts';
import { endpointHandlers } from './endpoint.ts';
import { packageConfigHandlers } from './package-config.ts';
import { packageVersionHandlers } from './package-versions.ts';
import { packageHandlers } from './packages.ts';
import { tagHandlers } from './tags.ts';

export const handlers: Record<ServiceName, HandlerMap> = {
  iot: { ...packageHandlers, ...packageVersionHandlers, ...packageConfigHandlers, ...tagHandlers, ...endpointHandlers },
  'iot-jobs-data': {},
  iotdata: {},
};
