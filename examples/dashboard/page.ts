/**
 * The dashboard's one page: inline CSS and JS, no build step, no CDN. It opens an
 * EventSource on `/events` and redraws the tiles from each snapshot.
 */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>@clone resilience dashboard</title>
<style>
  :root { color-scheme: dark; font-family: system-ui, sans-serif; }
  body { margin: 0; padding: 24px; background: #11151c; color: #e6e9ef; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  .sub { color: #8b93a7; font-size: 13px; margin-bottom: 20px; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 14px; }
  .tile { background: #1b212c; border-radius: 10px; padding: 14px 16px; border-top: 5px solid #3ba55d; }
  .tile.OPEN { border-top-color: #e5484d; background: #2a1a1d; }
  .tile.HALF_OPEN { border-top-color: #f0b429; }
  .tile h2 { font-size: 16px; margin: 0 0 6px; display: flex; justify-content: space-between; }
  .state { font-size: 12px; padding: 2px 8px; border-radius: 99px; background: #3ba55d; color: #0b0f14; font-weight: 700; }
  .OPEN .state { background: #e5484d; color: #fff; }
  .HALF_OPEN .state { background: #f0b429; }
  dl { display: grid; grid-template-columns: 1fr auto; gap: 3px 10px; margin: 8px 0 0; font-size: 13px; }
  dt { color: #8b93a7; } dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; }
  h3 { font-size: 15px; margin: 26px 0 10px; }
  .counts { display: flex; gap: 14px; flex-wrap: wrap; }
  .count { background: #1b212c; border-radius: 10px; padding: 10px 16px; min-width: 110px; }
  .count b { display: block; font-size: 22px; font-variant-numeric: tabular-nums; }
  .count span { color: #8b93a7; font-size: 12px; }
  #status { float: right; font-size: 12px; color: #8b93a7; }
</style>
</head>
<body>
<span id="status">connecting…</span>
<h1>@clone resilience dashboard</h1>
<div class="sub">One tile per callee: circuit state, calls/s and error % (last interval), p50/p99 latency (last 10 s), retries and open-circuit rejections. Live over server-sent events; Prometheus text at <a href="/metrics">/metrics</a>.</div>
<div class="grid" id="services"></div>
<h3>Sagas</h3>
<div class="counts" id="sagas"></div>
<div id="events-section" hidden><h3>Event bus</h3><div class="counts" id="events"></div></div>
<script>
  const fmt = (v, unit) => v === null || v === undefined ? '–' : (Math.round(v * 10) / 10) + (unit || '');
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
  function counts(el, record) {
    el.innerHTML = Object.entries(record).map(([k, v]) =>
      '<div class="count" data-count="' + esc(k) + '"><b>' + v + '</b><span>' + esc(k) + '</span></div>').join('');
  }
  function render(s) {
    document.getElementById('services').innerHTML = s.services.map((t) =>
      '<div class="tile ' + t.state + '" data-service="' + esc(t.service) + '" data-state="' + t.state + '">' +
      '<h2>' + esc(t.service) + '<span class="state">' + t.state + '</span></h2><dl>' +
      '<dt>calls/s</dt><dd>' + fmt(t.callsPerSecond) + '</dd>' +
      '<dt>errors</dt><dd>' + fmt(t.errorPercent, ' %') + '</dd>' +
      '<dt>p50 / p99</dt><dd>' + fmt(t.p50Ms, ' ms') + ' / ' + fmt(t.p99Ms, ' ms') + '</dd>' +
      '<dt>calls</dt><dd>' + t.calls + '</dd>' +
      '<dt>retries</dt><dd>' + t.retries + '</dd>' +
      '<dt>rejections</dt><dd>' + t.rejections + '</dd>' +
      '<dt>transitions</dt><dd>' + t.transitions + '</dd></dl></div>').join('');
    counts(document.getElementById('sagas'), s.sagas);
    const section = document.getElementById('events-section');
    section.hidden = !s.events;
    if (s.events) counts(document.getElementById('events'), s.events);
    document.getElementById('status').textContent = 'updated ' + new Date(s.at).toLocaleTimeString();
  }
  const source = new EventSource('/events');
  source.onmessage = (m) => render(JSON.parse(m.data));
  source.onerror = () => { document.getElementById('status').textContent = 'reconnecting…'; };
</script>
</body>
</html>
`;
