// DescribeEndpoint: tools that discover endpoints the AWS way find this server.
import type * as IoT from '@aws-sdk/client-iot';
import { invalidRequest } from '../protocol/errors.ts';
import type { Handlers, RequestContext } from './context.ts';

const ENDPOINT_TYPES = new Set(['iot:Data', 'iot:Data-ATS', 'iot:CredentialProvider', 'iot:Jobs']);

export const endpointHandlers = {
  async DescribeEndpoint(input: IoT.DescribeEndpointRequest, ctx: RequestContext): Promise<IoT.DescribeEndpointResponse> {
    const type = input.endpointType ?? 'iot:Data';
    if (!ENDPOINT_TYPES.has(type)) throw invalidRequest(`Unknown endpointType ${type}; expected one of ${[...ENDPOINT_TYPES].join(', ')}`);
    // AWS answers a host name; ours carries the port, since Flotilla does not listen on 443.
    return { endpointAddress: new URL(ctx.server.apiUrl).host };
  },
} satisfies Handlers<'iot'>;
