/**
 * The browser script of the HTML report, as text. It reads the report JSON from the
 * `<script type="application/json" id="gamewire-data">` block and draws the charts with uPlot (inlined
 * in the same page, so the report needs no network). Plain ES2017, no modules.
 */
export const REPORT_PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var report = JSON.parse(document.getElementById('gamewire-data').textContent);
  var series = report.series;
  var colors = { sent: '#1f77b4', received: '#ff7f0e', sessions: '#2ca02c', p50: '#2ca02c', p90: '#1f77b4',
    p99: '#ff7f0e', p999: '#d62728', max: '#7f7f7f', errors: '#d62728' };
  var charts = [];

  function chartWidth() { return Math.max(320, Math.min(1100, document.body.clientWidth - 48)); }
  function rate(point, key) { return point.durationMs > 0 ? point[key] / (point.durationMs / 1000) : 0; }
  function ms(point, key) { return point.latency.count > 0 ? point.latency[key] / 1000 : null; }
  function fixed(digits) { return function (u, v) { return v == null ? '-' : v.toFixed(digits); }; }
  function number(u, v) { return v == null ? '-' : Math.round(v).toLocaleString('en-US'); }

  function draw(id, options, data) {
    var target = document.getElementById(id);
    if (target === null) return;
    if (data[0].length === 0) { target.textContent = 'no data'; return; }
    options.width = chartWidth();
    options.height = 300;
    charts.push(new uPlot(options, data, target));
  }

  var t = series.map(function (p) { return p.t; });
  var xAxis = { label: 'seconds since start', values: function (u, splits) { return splits.map(function (v) { return v + 's'; }); } };

  draw('chart-throughput', {
    title: 'Throughput (packets per second) and open sessions',
    scales: { x: { time: false }, sessions: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.1]; } } },
    axes: [xAxis, { label: 'packets/s', size: 80 }, { scale: 'sessions', side: 1, label: 'sessions', size: 70, grid: { show: false } }],
    series: [
      { label: 't', value: fixed(1) },
      { label: 'sent/s', stroke: colors.sent, width: 2, value: number },
      { label: 'received/s', stroke: colors.received, width: 2, dash: [6, 4], value: number },
      { label: 'sessions', stroke: colors.sessions, width: 1.5, scale: 'sessions', value: number },
    ],
  }, [t, series.map(function (p) { return rate(p, 'packetsSent'); }),
      series.map(function (p) { return rate(p, 'packetsReceived'); }),
      series.map(function (p) { return p.sessions; })]);

  draw('chart-bandwidth', {
    title: 'Bandwidth (KiB per second)',
    scales: { x: { time: false } },
    axes: [xAxis, { label: 'KiB/s', size: 80 }],
    series: [
      { label: 't', value: fixed(1) },
      { label: 'out KiB/s', stroke: colors.sent, width: 2, value: fixed(1) },
      { label: 'in KiB/s', stroke: colors.received, width: 2, dash: [6, 4], value: fixed(1) },
    ],
  }, [t, series.map(function (p) { return rate(p, 'bytesSent') / 1024; }),
      series.map(function (p) { return rate(p, 'bytesReceived') / 1024; })]);

  draw('chart-latency', {
    title: 'Round-trip latency per second (ms, log scale)',
    scales: { x: { time: false }, y: { distr: 3 } },
    axes: [xAxis, { label: 'ms', size: 70 }],
    series: [
      { label: 't', value: fixed(1) },
      { label: 'p50', stroke: colors.p50, width: 2, value: fixed(3) },
      { label: 'p90', stroke: colors.p90, width: 2, value: fixed(3) },
      { label: 'p99', stroke: colors.p99, width: 2, value: fixed(3) },
      { label: 'p99.9', stroke: colors.p999, width: 2, value: fixed(3) },
      { label: 'max', stroke: colors.max, width: 1, dash: [4, 4], value: fixed(3) },
    ],
  }, [t, series.map(function (p) { return ms(p, 'p50'); }), series.map(function (p) { return ms(p, 'p90'); }),
      series.map(function (p) { return ms(p, 'p99'); }), series.map(function (p) { return ms(p, 'p99_9'); }),
      series.map(function (p) { return ms(p, 'max'); })]);

  // Percentile spectrum: x = log10(1 / (1 - p)), so 90 %, 99 %, 99.9 % ... are evenly spaced.
  var spectrum = report.latency.distribution.filter(function (d) { return d.percentile < 100; });
  var tickLabels = ['0%', '90%', '99%', '99.9%', '99.99%', '99.999%'];
  draw('chart-distribution', {
    title: 'Latency distribution over the whole run (ms by percentile; max ' + (report.latency.max / 1000).toFixed(3) + ' ms)',
    scales: { x: { time: false, range: [0, 5] } },
    axes: [
      { label: 'percentile', splits: function () { return [0, 1, 2, 3, 4, 5]; },
        values: function (u, splits) { return splits.map(function (v) { return tickLabels[Math.round(v)] || ''; }); } },
      { label: 'ms', size: 70 },
    ],
    series: [
      { label: 'percentile', value: function (u, v) { return v == null ? '-' : (100 * (1 - Math.pow(10, -v))).toFixed(4) + '%'; } },
      { label: 'latency ms', stroke: colors.p99, fill: 'rgba(255,127,14,0.12)', width: 2, value: fixed(3) },
    ],
  }, [spectrum.map(function (d) { return -Math.log10(Math.max(1e-9, 1 - d.percentile / 100)); }),
      spectrum.map(function (d) { return d.micros / 1000; })]);

  draw('chart-errors', {
    title: 'Connects, failures and disconnects per second',
    scales: { x: { time: false } },
    axes: [xAxis, { label: 'per second', size: 70 }],
    series: [
      { label: 't', value: fixed(1) },
      { label: 'connects', stroke: colors.sessions, width: 2, value: number },
      { label: 'connect failures', stroke: colors.errors, width: 2, value: number },
      { label: 'unexpected disconnects', stroke: colors.max, width: 2, dash: [6, 4], value: number },
    ],
  }, [t, series.map(function (p) { return p.connects; }), series.map(function (p) { return p.connectFailures; }),
      series.map(function (p) { return p.unexpectedDisconnects; })]);

  var config = report.config;
  if (config.resume || config.chaosCutPercent > 0) {
    draw('chart-resume', {
      title: 'Cuts, lost connections and resumes per second',
      scales: { x: { time: false } },
      axes: [xAxis, { label: 'per second', size: 70 }],
      series: [
        { label: 't', value: fixed(1) },
        { label: 'cuts', stroke: colors.errors, width: 2, value: number },
        { label: 'connections lost', stroke: colors.max, width: 2, dash: [6, 4], value: number },
        { label: 'resumes', stroke: colors.sessions, width: 2, value: number },
        { label: 'lost + duplicated + out of order messages', stroke: colors.p999, width: 2, dash: [2, 3], value: number },
      ],
    }, [t, series.map(function (p) { return p.cutsRst + p.cutsSilent; }), series.map(function (p) { return p.connectionsLost; }),
        series.map(function (p) { return p.resumes; }),
        series.map(function (p) { return p.messagesLost + p.messagesDuplicated + p.messagesOutOfOrder; })]);
  }

  window.addEventListener('resize', function () {
    var width = chartWidth();
    charts.forEach(function (chart) { chart.setSize({ width: width, height: 300 }); });
  });
})();
`;
