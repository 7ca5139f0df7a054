/**
 * gamewire/loadtest: the load tester behind `gamewire loadtest`. Bots (what one client does) are kept
 * apart from the harness (how many, how fast, for how long, metrics and reports).
 *
 * A bot module default-exports a {@link BotDefinition}; its sessions are gamewire Sessions (usually
 * `PacketSession` subclasses, imported from `gamewire`) that report to their {@link BotContext}.
 * @packageDocumentation
 */
export { defineBot, type BotContext, type BotDefinition, type BotOptions } from './bot.js';
export { BotLoadError, BUILT_IN_BOTS } from './bot-loader.js';
export { echoBot, EchoBotSession, ECHO_BOT_PACKET_ID, ECHO_BOT_STAMP_SIZE } from './echo-bot.js';
export { chatBot, ChatLoadBotSession } from './chat-bot.js';
export {
  DEFAULT_BOT_INTERVAL_MS,
  DEFAULT_BOT_MESSAGE,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_LOADTEST_DURATION_MS,
  DEFAULT_LOADTEST_SESSIONS,
  DEFAULT_RECONNECT_DELAY_MS,
  type LoadTestConfig,
  type LoadTestOptions,
} from './load-test-config.js';
export { LoadTestError, runLoadTest, type LoadTestHooks, type LoadTestProgress } from './run-load-test.js';
export type { LoadTestPoint, LoadTestTotals } from './run-aggregator.js';
export {
  LOADTEST_REPORT_FORMAT,
  writeJsonReport,
  type LoadTestLatency,
  type LoadTestRates,
  type LoadTestReport,
} from './load-test-report.js';
export { writeHtmlReport } from './html-report.js';
export { summaryTable } from './summary-table.js';
export type { LatencySummary } from './latency-histogram.js';
