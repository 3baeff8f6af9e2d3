// Worker thread entry (started by pool.ts; from the sources through worker-boot.mjs): validates one object per message, in order.
import { parentPort, workerData } from 'node:worker_threads';
import { validateSbom, type FileReport, type SbomValidateOptions } from './validate.ts';
import { takeXmlBytes } from './xml.ts';

export interface JobRequest {
  id: number;
  objectName: string;
  bytes: ArrayBuffer;
}

const options = (workerData as { options?: SbomValidateOptions } | undefined)?.options;
const port = parentPort!;

export interface JobResult {
  id: number;
  reports: FileReport[];
  /** Bytes of XML this job put through libxml2 (see takeXmlBytes). */
  xmlBytes: number;
}

port.on('message', (msg: JobRequest) => {
  void validateSbom(new Uint8Array(msg.bytes), msg.objectName, options).then((reports) => {
    const reply: JobResult = { id: msg.id, reports, xmlBytes: takeXmlBytes() };
    port.postMessage(reply);
  });
});
