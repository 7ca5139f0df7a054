/**
 * Entry point of a load test worker process: the file the load test forks (see `worker-process.ts`).
 * Never imported by anything else.
 */
import { runWorkerProcess } from './worker-process.js';

runWorkerProcess();
