import { pgBackend } from './backends.js';
import { ledgerConformance } from './conformance.js';

await ledgerConformance(pgBackend);
