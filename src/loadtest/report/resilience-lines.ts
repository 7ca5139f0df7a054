import type { LoadTestReport } from '../harness/load-test-report.js';

/** One line: a name, a value and an optional note. */
export type ResilienceLine = readonly [name: string, value: string, note?: string];

/**
 * What happened to the connections and to the order of messages, as the summary table and the HTML
 * page show it: chaos cuts, connections lost, reconnect attempts and resumes (when resume or chaos
 * was on, or a connection was lost), and always the messages the bots found lost, duplicated or out
 * of order, the figure that says a resumed connection lost nothing.
 */
export function resilienceLines(report: LoadTestReport): ResilienceLine[] {
  const { config, totals } = report;
  const lines: ResilienceLine[] = [];
  if (config.chaosCutPercent > 0) {
    lines.push([
      'chaos cuts',
      String(totals.cutsRst + totals.cutsSilent),
      `${totals.cutsRst} rst, ${totals.cutsSilent} silent; ${config.chaosCutPercent} % per second`,
    ]);
  }
  if (config.resume || config.chaosCutPercent > 0 || totals.connectionsLost > 0) {
    lines.push(['connections lost', String(totals.connectionsLost)]);
    if (config.resume) {
      lines.push(
        ['reconnect attempts', String(totals.reconnectAttempts)],
        ['resumes', String(totals.resumes), `${totals.resumesExpired} expired, ${totals.resumesRefused} refused`],
      );
    }
  }
  const name = 'messages lost / dup / out of order';
  const messages = `${totals.messagesLost} / ${totals.messagesDuplicated} / ${totals.messagesOutOfOrder}`;
  lines.push(totals.unanswered > 0 ? [name, messages, `and ${totals.unanswered} requests unanswered`] : [name, messages]);
  return lines;
}
