/** A Logger that keeps every line, for tests that assert what was logged (and what was not). */
import type { Logger } from '../../src/core/logger.js';
import { Condition } from './wait.js';

/** Keeps every line. */
export class MemoryLogger implements Logger {
  readonly lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
  readonly changed = new Condition();
  debug(fields: object, message: string): void {
    this.push('debug', fields, message);
  }
  info(fields: object, message: string): void {
    this.push('info', fields, message);
  }
  warn(fields: object, message: string): void {
    this.push('warn', fields, message);
  }
  error(fields: object, message: string): void {
    this.push('error', fields, message);
  }
  at(level: string): Array<{ fields: Record<string, unknown>; message: string }> {
    return this.lines.filter((line) => line.level === level);
  }
  private push(level: string, fields: object, message: string): void {
    this.lines.push({ level, fields: fields as Record<string, unknown>, message });
    this.changed.notify();
  }
}

