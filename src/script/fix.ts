// The remedy every script failure names, wherever the script ran (in the worker or on this thread).
import { hint } from '../core/fixes.js';

export const FIX_THE_SCRIPT = hint`fix the app's script (${{ kind: 'app-check', app: '<app>' }} reports its errors), or remove it to run every step`;
