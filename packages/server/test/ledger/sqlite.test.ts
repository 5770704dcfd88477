import { sqliteBackend } from './backends.js';
import { ledgerConformance } from './conformance.js';

await ledgerConformance(sqliteBackend);
