// The emulator's dashboard: plain JavaScript, no build step, no libraries.
//
// Feeds: the MtGox websocket (/mtgox: trades, depth deltas, ticker) for the market, seeded once per
// connection from getDepth.php / getTrades.php / ticker.php; the BitcoinAverage REST routes, polled
// every few seconds (the emulator has no BitcoinAverage websockets yet: poll until it does); the
// control API (/_emulator/...) polled every second or two.
//
// Websocket messages only update in-memory state and mark parts of the page dirty; the page redraws
// the dirty parts at most every FRAME_MS, in a requestAnimationFrame, so that 1000x speed (thousands
// of messages a second) stays responsive. The tape and the price chart keep the last MAX_TRADES trades.
'use strict';

(() => {
  const CHANNELS = {
    trade: 'dbf1dee9-4f2e-4a08-8cb7-748919a71b21',
    ticker: 'd5f06780-30a8-4a48-a2f8-7ed181b4a13f',
    depth: '24e67e0d-1cad-4cc0-9e7a-f8523ef460fe',
  };
  // The enterprise demo key of fixtures/accounts.json: every BitcoinAverage route, no rate limit.
  const AVERAGE_KEY = 'EnterpriseDemoPublicKey0000000000000000000';
  const MARK = '_dashboard=1'; // on the page's own API requests, so that its journal view can hide them
  const FIATS = ['USD', 'EUR', 'GBP', 'JPY'];
  const FRAME_MS = 200;
  const MAX_TRADES = 600;
  const TAPE_ROWS = 40;
  const BOOK_ROWS = 14;
  const JOURNAL_ROWS = 60;
  const PRICE_SCALE = 1e5;
  const BTC_SCALE = 1e8;

  const $ = (id) => document.getElementById(id);
  const esc = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

  // -- tenant -------------------------------------------------------------------------------------

  const prefixed = location.pathname.match(/^\/_t\/([^/]+)/);
  const tenant = prefixed ? decodeURIComponent(prefixed[1]) : new URLSearchParams(location.search).get('tenant') || 'default';
  const base = `/_t/${encodeURIComponent(tenant)}`;

  // -- state --------------------------------------------------------------------------------------

  const state = {
    generation: 0, // bumped on every (re)connection: late answers for an older world are dropped
    trades: [],
    tids: new Set(),
    tradeCount: 0,
    bids: new Map(), // price_int -> volume in 1e-8 BTC
    asks: new Map(),
    deltasSinceSync: 0,
    syncing: false,
    lastSync: 0,
    ticker: null,
    previousLast: null,
    clock: null,
    clockAt: 0,
    scenario: null,
    scenarios: [],
    faults: null,
    journal: null,
    sockets: null,
    indices: { local: {}, global: {} },
    exchanges: null,
    feed: { status: 'connecting', attempt: 0, openedAt: 0, close: null, socket: null },
    average: { status: 'waiting', detail: '' },
    control: { status: 'waiting', detail: '' },
    unreachableSince: null,
    busy: 0, // control actions in flight: polls wait for them (see quiet())
  };

  class HttpError extends Error {
    constructor(status, body) {
      super(typeof body === 'object' && body && body.error ? `${status}: ${body.error}` : `HTTP ${status}`);
      this.status = status;
      this.body = body;
    }
  }

  function token() {
    return sessionStorage.getItem('emulator-admin-token') || '';
  }

  async function api(path, { method = 'GET', body, control = false, average = false } = {}) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (average) headers['x-ba-key'] = AVERAGE_KEY;
    if (control && token()) headers.Authorization = `Bearer ${token()}`;
    const url = base + path + (control ? '' : (path.includes('?') ? '&' : '?') + MARK);
    let response;
    try {
      response = await fetch(url, { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      if (state.unreachableSince === null) state.unreachableSince = new Date();
      invalidate('status');
      throw error;
    }
    if (state.unreachableSince !== null) {
      state.unreachableSince = null;
      invalidate('status');
    }
    const text = await response.text();
    let data = text;
    try {
      data = JSON.parse(text);
    } catch {
      // plain text (e.g. an injected MySQL error)
    }
    if (!response.ok) throw new HttpError(response.status, data);
    return data;
  }

  // -- redraw scheduling ---------------------------------------------------------------------------

  const dirty = new Set();
  let framePending = false;
  let lastFrame = 0;

  function invalidate(...parts) {
    for (const part of parts) dirty.add(part);
    if (framePending) return;
    framePending = true;
    const wait = Math.max(0, FRAME_MS - (performance.now() - lastFrame));
    setTimeout(() => requestAnimationFrame(frame), wait);
  }

  function frame() {
    framePending = false;
    lastFrame = performance.now();
    const parts = [...dirty];
    dirty.clear();
    for (const part of parts) {
      try {
        RENDER[part]();
      } catch (error) {
        console.error('render', part, error);
      }
    }
  }

  // -- formatting ---------------------------------------------------------------------------------

  const price = (p) => (p == null || Number.isNaN(+p) ? '—' : (+p).toFixed(+p < 1 ? 5 : 4));
  const btc = (v, digits = 4) => (v == null ? '—' : (+v).toFixed(digits));
  const two = (n) => String(n).padStart(2, '0');
  function hms(seconds) {
    const d = new Date(seconds * 1000);
    return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  }
  function stamp(seconds) {
    return new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }
  const compareTid = (a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

  // -- MtGox feed ---------------------------------------------------------------------------------

  function clearMarket() {
    state.trades = [];
    state.tids = new Set();
    state.tradeCount = 0;
    state.bids = new Map();
    state.asks = new Map();
    state.ticker = null;
    state.previousLast = null;
    invalidate('tape', 'price', 'book', 'ticker');
  }

  function connectFeed() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}${base}/mtgox?${MARK}`);
    const feed = state.feed;
    feed.socket = socket;
    feed.status = 'connecting';
    invalidate('status');
    socket.onopen = () => {
      feed.status = 'open';
      feed.openedAt = Date.now();
      const generation = ++state.generation;
      clearMarket();
      invalidate('status');
      seedMarket(generation);
    };
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      onMessage(message);
    };
    socket.onclose = (event) => {
      if (feed.socket !== socket) return;
      const lasted = feed.openedAt ? Date.now() - feed.openedAt : 0;
      feed.attempt = lasted > 10000 ? 1 : feed.attempt + 1;
      feed.openedAt = 0;
      feed.status = 'closed';
      feed.close = { code: event.code, reason: event.reason, at: new Date() };
      // a reset world (1012) is expected: come back at once; anything else backs off up to 10 s
      const delay = event.code === 1012 && feed.attempt < 3 ? 100 : Math.min(10000, 250 * 2 ** feed.attempt);
      feed.retryAt = Date.now() + delay;
      invalidate('status');
      setTimeout(connectFeed, delay);
    };
  }

  function onMessage(message) {
    if (message.op !== 'private') return;
    if (message.channel === CHANNELS.trade && message.trade) {
      if (message.trade.price_currency === 'USD') addTrades([message.trade]);
    } else if (message.channel === CHANNELS.depth && message.depth) {
      const d = message.depth;
      if (d.currency !== 'USD') return;
      applyDepth(d.type === 2 || d.type_str === 'bid' ? state.bids : state.asks, Number(d.price_int), Number(d.volume_int));
      state.deltasSinceSync += 1;
      invalidate('book', 'depth');
    } else if (message.channel === CHANNELS.ticker && message.ticker) {
      setTicker(message.ticker);
    }
  }

  function applyDepth(side, priceInt, delta) {
    const volume = (side.get(priceInt) || 0) + delta;
    if (volume > 0) side.set(priceInt, volume);
    else side.delete(priceInt);
  }

  function setTicker(ticker) {
    if (state.ticker && state.ticker.last !== ticker.last) state.previousLast = state.ticker.last;
    state.ticker = ticker;
    invalidate('ticker');
  }

  function addTrades(list) {
    let added = false;
    for (const t of list) {
      if (state.tids.has(t.tid)) continue;
      const trade = { tid: String(t.tid), date: Number(t.date), price: Number(t.price), amount: Number(t.amount), side: t.trade_type };
      const trades = state.trades;
      if (trades.length && compareTid(trades[trades.length - 1].tid, trade.tid) > 0) {
        trades.push(trade);
        trades.sort((a, b) => compareTid(a.tid, b.tid));
      } else {
        trades.push(trade);
      }
      state.tids.add(trade.tid);
      state.tradeCount += 1;
      added = true;
    }
    if (state.trades.length > MAX_TRADES * 1.25) {
      for (const old of state.trades.splice(0, state.trades.length - MAX_TRADES)) state.tids.delete(old.tid);
    }
    if (added) invalidate('tape', 'price', 'ticker');
  }

  async function seedMarket(generation) {
    const current = () => generation === state.generation;
    await Promise.allSettled([
      syncBook(generation),
      api('/code/data/ticker.php').then((r) => current() && r.ticker && setTicker(r.ticker)),
      loadTrades(generation),
    ]);
  }

  async function syncBook(generation = state.generation) {
    state.lastSync = Date.now();
    const before = state.deltasSinceSync;
    state.syncing = true;
    let depth;
    try {
      depth = await api('/code/data/getDepth.php');
    } finally {
      state.syncing = false;
    }
    if (generation !== state.generation) return;
    const side = (levels) => new Map(levels.map(([p, v]) => [Math.round(p * PRICE_SCALE), Math.round(v * BTC_SCALE)]));
    state.bids = side(depth.bids || []);
    state.asks = side(depth.asks || []);
    state.deltasSinceSync -= before;
    invalidate('book', 'depth');
  }

  // The depth deltas keep the book current between snapshots; a fresh getDepth every couple of
  // seconds while the book moves repairs what a gap (a fault, a delta that raced the getDepth answer
  // at high speed, a level outside getDepth's price window) left behind. A crossed book resyncs at once.
  setInterval(() => {
    if (state.feed.status !== 'open' || quiet() || state.syncing || state.deltasSinceSync <= 0) return;
    const crossed = bestOf(state.bids, true) >= bestOf(state.asks, false);
    if (crossed || Date.now() - state.lastSync > 2000) syncBook().catch(() => {});
  }, 500);

  function bestOf(side, highest) {
    let best = highest ? -Infinity : Infinity;
    for (const p of side.keys()) if (highest ? p > best : p < best) best = p;
    return best;
  }

  async function loadTrades(generation) {
    const get = (since) => api(`/code/data/getTrades.php?since=${since}`);
    const current = () => generation === state.generation;
    // every tid, the seeded history's too, is its trade's time in microseconds: the tape starts 15
    // minutes of market time back, or an hour back when 15 minutes hold too few trades to fill it
    let clock = state.clock;
    if (!clock) clock = await api('/_emulator/clock', { control: true }).catch(() => null);
    if (!current()) return;
    if (!clock) {
      // no control API to tell the market time: the last day's trades, of which the tape keeps the tail
      const day = await api('/code/data/getTrades.php');
      if (current()) addTrades(day.slice(-MAX_TRADES));
      return;
    }
    let trades = [];
    for (const back of [900, 3600]) {
      trades = [];
      let since = clock.timestamp_us - back * 1e6;
      for (let page = 0; page < 20; page++) {
        const batch = await get(since);
        if (!current()) return;
        trades.push(...batch);
        if (batch.length < 100) break;
        since = batch[batch.length - 1].tid;
      }
      if (trades.length >= MAX_TRADES / 2) break;
    }
    addTrades(trades.slice(-MAX_TRADES));
  }

  // -- polling: control API and BitcoinAverage ----------------------------------------------------

  function controlProblem(error) {
    if (error instanceof HttpError && error.status === 401) return ['auth', 'admin token needed'];
    if (error instanceof HttpError && error.status === 404) return ['off', 'control API switched off'];
    if (error instanceof HttpError) return ['error', error.message];
    return ['down', 'unreachable'];
  }

  // While a control action (an advance above all) is in flight the page sends nothing else: the
  // emulator answers plain (def) routes from a thread pool, and one arriving in the middle of an
  // advance would touch the world from another thread while the advance plays it.
  const quiet = () => state.busy > 0;

  let slowTick = 0;
  async function pollControl() {
    if (quiet()) {
      setTimeout(pollControl, 200);
      return;
    }
    const slow = slowTick++ % 2 === 0;
    try {
      const clock = await api('/_emulator/clock', { control: true });
      state.clock = clock;
      state.clockAt = Date.now();
      state.control = { status: 'ok', detail: '' };
      if (slow) await pollControlPanels();
    } catch (error) {
      const [status, detail] = controlProblem(error);
      state.control = { status, detail };
    }
    invalidate('clock', 'status');
    setTimeout(pollControl, 1000);
  }

  async function optional(path) {
    try {
      return { ok: true, data: await api(path, { control: true }) };
    } catch (error) {
      return { ok: false, error };
    }
  }

  async function pollControlPanels() {
    const [scenario, faults, journal, sockets, tenants] = await Promise.all([
      optional('/_emulator/scenario'),
      optional('/_emulator/faults'),
      optional('/_emulator/journal?limit=400'),
      optional('/_emulator/connections'),
      optional('/_emulator/tenants'),
    ]);
    state.scenario = scenario;
    state.faults = faults;
    state.journal = journal;
    state.sockets = sockets;
    state.tenants = tenants;
    if (!state.scenarios.length) loadScenarios();
    invalidate('scenario', 'faults', 'journal', 'sockets');
  }

  async function loadScenarios() {
    try {
      const listed = await api('/_emulator/scenarios', { control: true });
      state.scenarios = listed.scenarios || [];
      const select = $('scenario-select');
      select.innerHTML = state.scenarios
        .map((s) => `<option value="${esc(s.name)}" title="${esc(s.description)}">${esc(s.name)}</option>`)
        .join('');
      shownScenario = null; // a fresh list starts on its first option: show the running one again
      showRunningScenario();
    } catch {
      // retried on the next poll
    }
  }

  let averageTick = 0;
  async function pollAverage() {
    if (quiet()) {
      setTimeout(pollAverage, 200);
      return;
    }
    await refreshAverage(averageTick++ % 2 === 0);
    setTimeout(pollAverage, 3000);
  }

  async function refreshAverage(withExchanges) {
    const fiat = FIATS.join(',');
    try {
      const [local, global] = await Promise.all([
        api(`/indices/local/ticker/all?crypto=BTC&fiat=${fiat}`, { average: true }),
        api(`/indices/global/ticker/all?crypto=BTC&fiat=${fiat}`, { average: true }),
      ]);
      state.indices = { local, global };
      if (withExchanges) {
        const [all, ignored, inactive, outliers] = await Promise.allSettled([
          api('/exchanges/all?symbol=BTCUSD', { average: true }),
          api('/exchanges/ignored', { average: true }),
          api('/exchanges/inactive', { average: true }),
          api('/exchanges/outliers', { average: true }),
        ]);
        const value = (r, fallback) => (r.status === 'fulfilled' ? r.value : fallback);
        state.exchanges = {
          all: value(all, []),
          ignored: value(ignored, []),
          inactive: value(inactive, []),
          outliers: value(outliers, {}),
        };
        invalidate('exchanges');
      }
      state.average = { status: 'ok', detail: '' };
    } catch (error) {
      state.average = {
        status: error instanceof HttpError ? 'error' : 'down',
        detail: error instanceof HttpError ? error.message : 'unreachable',
      };
    }
    invalidate('indices', 'status');
  }

  // -- rendering ----------------------------------------------------------------------------------

  const RENDER = {
    status: renderStatus,
    clock: renderClock,
    ticker: renderTicker,
    tape: renderTape,
    price: drawPrice,
    book: renderBook,
    depth: drawDepth,
    indices: renderIndices,
    exchanges: renderExchanges,
    scenario: renderScenario,
    faults: renderFaults,
    journal: renderJournal,
    sockets: renderSockets,
  };

  function pill(id, cls, text, title) {
    const el = $(id);
    el.className = `pill ${cls}`;
    el.textContent = text;
    el.title = title || '';
  }

  function renderStatus() {
    const feed = state.feed;
    const feedOk = feed.status === 'open';
    pill('pill-feed', feedOk ? 'ok' : feed.status === 'connecting' ? 'warn' : 'bad', `MtGox ws ${feedOk ? 'live' : feed.status}`);
    const avg = state.average;
    pill('pill-average', avg.status === 'ok' ? 'ok' : avg.status === 'waiting' ? 'warn' : 'bad', `BitcoinAverage ${avg.status === 'ok' ? 'ok' : avg.detail || avg.status}`);
    const ctl = state.control;
    pill('pill-control', ctl.status === 'ok' ? 'ok' : ctl.status === 'waiting' ? 'warn' : 'bad', `control ${ctl.status === 'ok' ? 'ok' : ctl.detail || ctl.status}`);
    $('token-form').hidden = ctl.status !== 'auth' && !token();
    document.body.classList.toggle('feed-down', !feedOk);
    document.body.classList.toggle('average-down', avg.status !== 'ok' && avg.status !== 'waiting');
    document.body.classList.toggle('control-down', ctl.status !== 'ok' && ctl.status !== 'waiting');

    const banner = $('banner');
    let text = '';
    let info = false;
    if (state.unreachableSince) {
      text = `Connection lost: the emulator at ${location.host} has not answered since ${state.unreachableSince.toLocaleTimeString()}. Retrying…`;
    } else if (!feedOk && feed.close) {
      const c = feed.close;
      const why = c.code === 1012 ? 'the world was reset' : c.reason || (c.code === 1006 ? 'connection lost' : 'closed');
      const wait = Math.max(0, Math.ceil(((feed.retryAt || 0) - Date.now()) / 1000));
      text = `MtGox websocket closed at ${c.at.toLocaleTimeString()} (code ${c.code}: ${why}). Reconnecting${wait ? ` in ${wait} s` : ''} (attempt ${feed.attempt})…`;
      info = c.code === 1012;
    }
    banner.hidden = !text;
    banner.textContent = text;
    banner.className = info ? 'banner info' : 'banner';
    if (text && !feedOk) setTimeout(() => invalidate('status'), 1000);
  }

  function clockNow() {
    const c = state.clock;
    if (!c) return null;
    return c.mode === 'realtime' ? c.timestamp + (c.speed * (Date.now() - state.clockAt)) / 1000 : c.timestamp;
  }

  function renderClock() {
    const c = state.clock;
    if (!c) return;
    $('clock-now').textContent = stamp(Math.floor(clockNow()));
    $('clock-mode').textContent = c.mode === 'manual' ? 'paused (manual)' : 'running';
    $('clock-speed').textContent = `×${c.speed}`;
    $('pause').textContent = c.mode === 'manual' ? 'resume' : 'pause';
    const speed = $('speed');
    if (document.activeElement !== speed) speed.value = c.speed;
  }
  setInterval(() => state.clock && state.clock.mode === 'realtime' && invalidate('clock'), 250);

  function lastPrice() {
    if (state.ticker && state.ticker.last != null) return state.ticker.last;
    return state.trades.length ? state.trades[state.trades.length - 1].price : null;
  }

  function renderTicker() {
    const t = state.ticker || {};
    const last = lastPrice();
    const el = $('ticker-last');
    el.textContent = price(last);
    el.className = `last${state.previousLast == null || last == null ? '' : last > state.previousLast ? ' up' : last < state.previousLast ? ' down' : ''}`;
    $('ticker-buy').textContent = price(t.buy);
    $('ticker-sell').textContent = price(t.sell);
    $('ticker-high').textContent = price(t.high);
    $('ticker-low').textContent = price(t.low);
    $('ticker-vol').textContent = t.vol == null ? '—' : String(t.vol);
    $('trade-count').textContent = String(state.tradeCount);
  }

  function renderTape() {
    const rows = [];
    for (let i = state.trades.length - 1; i >= 0 && rows.length < TAPE_ROWS; i--) {
      const t = state.trades[i];
      const side = t.side === 'bid' ? 'buy' : 'sell';
      rows.push(`<tr data-tid="${esc(t.tid)}"><td>${hms(t.date)}</td><td class="${side}">${side}</td><td class="${side}">${price(t.price)}</td><td>${btc(t.amount)}</td></tr>`);
    }
    $('tape').tBodies[0].innerHTML = rows.join('');
  }

  function sortedLevels() {
    const bids = [...state.bids].sort((a, b) => b[0] - a[0]);
    const asks = [...state.asks].sort((a, b) => a[0] - b[0]);
    return { bids, asks };
  }

  function renderBook() {
    const { bids, asks } = sortedLevels();
    const rows = [];
    let cumBid = 0;
    let cumAsk = 0;
    for (let i = 0; i < BOOK_ROWS; i++) {
      const b = bids[i];
      const a = asks[i];
      if (b) cumBid += b[1];
      if (a) cumAsk += a[1];
      rows.push(
        `<tr><td>${b ? btc(cumBid / BTC_SCALE, 1) : ''}</td><td>${b ? btc(b[1] / BTC_SCALE) : ''}</td>` +
          `<td class="bid">${b ? price(b[0] / PRICE_SCALE) : ''}</td><td class="ask">${a ? price(a[0] / PRICE_SCALE) : ''}</td>` +
          `<td>${a ? btc(a[1] / BTC_SCALE) : ''}</td><td>${a ? btc(cumAsk / BTC_SCALE, 1) : ''}</td></tr>`,
      );
    }
    $('book').tBodies[0].innerHTML = rows.join('');
    const spread = bids.length && asks.length ? (asks[0][0] - bids[0][0]) / PRICE_SCALE : null;
    $('book-spread').textContent = `${bids.length} bids · ${asks.length} asks${spread == null ? '' : ` · spread ${price(spread)}`}`;
  }

  function prepare(canvas) {
    const ratio = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = '11px ui-monospace, monospace';
    return { ctx, w, h };
  }

  const COLORS = { bid: '#3fb950', ask: '#f85149', line: '#273240', text: '#7d8b99', accent: '#58a6ff' };

  function axisY(ctx, w, h, pad, lo, hi, fmt) {
    ctx.fillStyle = COLORS.text;
    ctx.strokeStyle = COLORS.line;
    ctx.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const v = lo + ((hi - lo) * i) / 4;
      const y = h - pad.bottom - ((h - pad.top - pad.bottom) * i) / 4;
      ctx.beginPath();
      ctx.moveTo(pad.left, y + 0.5);
      ctx.lineTo(w - pad.right, y + 0.5);
      ctx.stroke();
      ctx.fillText(fmt(v), w - pad.right + 4, y + 4);
    }
  }

  function placeholder(ctx, w, h, text) {
    ctx.fillStyle = COLORS.text;
    ctx.fillText(text, w / 2 - ctx.measureText(text).width / 2, h / 2);
  }

  function drawPrice() {
    const { ctx, w, h } = prepare($('price-chart'));
    const trades = state.trades;
    if (trades.length < 2) return placeholder(ctx, w, h, 'waiting for trades…');
    const pad = { left: 6, right: 62, top: 8, bottom: 18 };
    const t0 = trades[0].date;
    const t1 = Math.max(trades[trades.length - 1].date, t0 + 1);
    let lo = Infinity;
    let hi = -Infinity;
    for (const t of trades) {
      lo = Math.min(lo, t.price);
      hi = Math.max(hi, t.price);
    }
    const margin = Math.max((hi - lo) * 0.08, hi * 0.002, 1e-5);
    lo = Math.max(0, lo - margin);
    hi += margin;
    const x = (s) => pad.left + ((w - pad.left - pad.right) * (s - t0)) / (t1 - t0);
    const y = (p) => h - pad.bottom - ((h - pad.top - pad.bottom) * (p - lo)) / (hi - lo);
    axisY(ctx, w, h, pad, lo, hi, (v) => v.toFixed(v < 1 ? 4 : 2));
    ctx.fillStyle = COLORS.text;
    ctx.fillText(hms(t0), pad.left, h - 4);
    const end = hms(t1);
    ctx.fillText(end, w - pad.right - ctx.measureText(end).width, h - 4);
    ctx.beginPath();
    trades.forEach((t, i) => (i ? ctx.lineTo(x(t.date), y(t.price)) : ctx.moveTo(x(t.date), y(t.price))));
    ctx.strokeStyle = COLORS.accent;
    ctx.lineWidth = 1.5;
    ctx.stroke();
    ctx.lineTo(x(trades[trades.length - 1].date), h - pad.bottom);
    ctx.lineTo(x(t0), h - pad.bottom);
    ctx.closePath();
    ctx.fillStyle = 'rgba(88,166,255,0.10)';
    ctx.fill();
    const last = trades[trades.length - 1];
    ctx.fillStyle = COLORS.accent;
    ctx.beginPath();
    ctx.arc(x(last.date), y(last.price), 3, 0, 2 * Math.PI);
    ctx.fill();
  }

  function drawDepth() {
    const { ctx, w, h } = prepare($('depth-chart'));
    const { bids, asks } = sortedLevels();
    if (!bids.length && !asks.length) return placeholder(ctx, w, h, 'waiting for the book…');
    const pad = { left: 6, right: 62, top: 8, bottom: 18 };
    const bestBid = bids.length ? bids[0][0] : asks[0][0];
    const bestAsk = asks.length ? asks[0][0] : bids[0][0];
    const mid = (bestBid + bestAsk) / 2;
    const depth = 80;
    let pLo = Math.max(bids.length ? bids[Math.min(bids.length, depth) - 1][0] : bestBid, mid * 0.6);
    let pHi = Math.min(asks.length ? asks[Math.min(asks.length, depth) - 1][0] : bestAsk, mid * 1.4);
    if (pHi <= pLo) [pLo, pHi] = [mid * 0.9, mid * 1.1 + 1];
    const cumulative = (levels, inside) => {
      const out = [];
      let total = 0;
      for (const [p, v] of levels) {
        if (!inside(p)) break;
        total += v;
        out.push([p, total]);
      }
      return out;
    };
    const b = cumulative(bids, (p) => p >= pLo);
    const a = cumulative(asks, (p) => p <= pHi);
    const vMax = Math.max(b.length ? b[b.length - 1][1] : 0, a.length ? a[a.length - 1][1] : 0, 1) * 1.05;
    const x = (p) => pad.left + ((w - pad.left - pad.right) * (p - pLo)) / (pHi - pLo);
    const y = (v) => h - pad.bottom - ((h - pad.top - pad.bottom) * v) / vMax;
    axisY(ctx, w, h, pad, 0, vMax / BTC_SCALE, (v) => v.toFixed(v < 10 ? 2 : 0));
    const area = (points, color, fill, edge) => {
      if (!points.length) return;
      ctx.beginPath();
      ctx.moveTo(x(points[0][0]), y(0));
      let previous = 0;
      for (const [p, v] of points) {
        ctx.lineTo(x(p), y(previous));
        ctx.lineTo(x(p), y(v));
        previous = v;
      }
      ctx.lineTo(x(edge), y(previous));
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      ctx.stroke();
      ctx.lineTo(x(edge), y(0));
      ctx.closePath();
      ctx.fillStyle = fill;
      ctx.fill();
    };
    area(b, COLORS.bid, 'rgba(63,185,80,0.18)', pLo);
    area(a, COLORS.ask, 'rgba(248,81,73,0.18)', pHi);
    ctx.fillStyle = COLORS.text;
    const labels = [pLo, mid, pHi].map((p) => price(p / PRICE_SCALE));
    ctx.fillText(labels[0], pad.left, h - 4);
    ctx.fillText(labels[1], x(mid) - ctx.measureText(labels[1]).width / 2, h - 4);
    ctx.fillText(labels[2], w - pad.right - ctx.measureText(labels[2]).width, h - 4);
  }

  function renderIndices() {
    const { local, global } = state.indices;
    const rows = FIATS.map((fiat) => {
      const symbol = `BTC${fiat}`;
      const l = local[symbol];
      const g = global[symbol];
      const change = l && l.changes ? l.changes.percent.day : null;
      const cls = change == null ? '' : change >= 0 ? 'bid' : 'ask';
      return (
        `<tr><td>${symbol}</td><td>${l ? esc(l.last) : '—'}</td><td>${l ? esc(l.bid) : '—'}</td><td>${l ? esc(l.ask) : '—'}</td>` +
        `<td class="${cls}">${change == null ? '—' : `${change > 0 ? '+' : ''}${esc(change)} %`}</td><td>${g ? esc(g.last) : '—'}</td></tr>`
      );
    });
    $('indices').tBodies[0].innerHTML = rows.join('');
  }

  function renderExchanges() {
    const x = state.exchanges;
    if (!x) return;
    const outliers = new Set();
    for (const bySymbol of Object.values(x.outliers || {})) for (const name of Object.keys(bySymbol.BTCUSD || {})) outliers.add(name);
    const rows = (Array.isArray(x.all) ? x.all : []).map((e) => {
      const s = (e.symbols || {}).BTCUSD || {};
      const mark = outliers.has(e.name) ? '<span class="mark outlier">outlier</span>' : '';
      return `<tr><td title="${esc(e.url)}">${esc(e.display_name || e.name)}</td><td>${esc(s.last)}</td><td>${esc(s.bid)}</td><td>${esc(s.ask)}</td><td>${s.volume == null ? '' : btc(s.volume, 0)}</td><td>${mark}</td></tr>`;
    });
    for (const e of Array.isArray(x.ignored) ? x.ignored : []) {
      rows.push(`<tr class="dim"><td>${esc(e.display_name || e.name)}</td><td colspan="4" title="${esc(e.ignore_reason)}">${esc(e.ignore_reason)}</td><td><span class="mark ignored">ignored</span></td></tr>`);
    }
    for (const e of Array.isArray(x.inactive) ? x.inactive : []) {
      rows.push(`<tr class="dim"><td>${esc(e.display_name || e.name)}</td><td colspan="4">no update since ${esc(stamp(e.timestamp).slice(0, 10))}</td><td><span class="mark inactive">inactive</span></td></tr>`);
    }
    $('exchanges').tBodies[0].innerHTML = rows.join('');
  }

  function unavailable(result, what) {
    if (result.ok) return null;
    const e = result.error;
    if (e instanceof HttpError && e.status === 404) return `${what}: not available on this emulator`;
    return `${what}: ${e.message}`;
  }

  // The selector follows the scenario the world runs (started here, by another client, or by
  // `serve --scenario`), but only when that changes, so that it never undoes the user's own choice.
  let shownScenario = null;
  function showRunningScenario() {
    const r = state.scenario;
    const name = r && r.ok && r.data ? r.data.name : null;
    const select = $('scenario-select');
    if (!name || name === shownScenario || ![...select.options].some((o) => o.value === name)) return;
    select.value = name;
    shownScenario = name;
  }

  function renderScenario() {
    const r = state.scenario;
    if (!r) return;
    const el = $('scenario-status');
    const problem = unavailable(r, 'scenario');
    if (problem) {
      el.textContent = problem;
      return;
    }
    const s = r.data;
    showRunningScenario();
    if (!s.name) {
      el.innerHTML = `no scenario running · random flow ${s.flow ? 'on' : 'off'}`;
      return;
    }
    const next = s.next_at == null ? 'no more steps' : `next step at ${hms(s.next_at)}`;
    el.innerHTML =
      `<b>${esc(s.name)}</b><br>${esc(s.description || '')}<br>` +
      `steps done ${esc(s.done)} of ${esc(s.steps)} · ${esc(next)} · random flow ${s.flow ? 'on' : 'off'}`;
  }

  const listOf = (data, key) => (Array.isArray(data) ? data : (data && data[key]) || []);

  function renderFaults() {
    const r = state.faults;
    if (!r) return;
    const ul = $('faults-list');
    const problem = unavailable(r, 'faults');
    if (problem) {
      ul.innerHTML = `<li class="muted">${esc(problem)}</li>`;
      return;
    }
    const rules = listOf(r.data, 'faults');
    ul.innerHTML = rules.length
      ? rules
          .map((f) => {
            const what = [f.effect, f.status, f.latency_ms ? `${f.latency_ms} ms` : '', f.api, f.method, f.channel, f.path].filter((v) => v != null && v !== '' && v !== '*').join(' ');
            const hits = `hits ${f.hits ?? 0}${f.count ? `/${f.count}` : ''}${f.active === false ? ' · inactive' : ''}`;
            return `<li><span title="${esc(f.id)}">${esc(what)} <span class="muted">${esc(hits)}</span></span><button type="button" data-fault="${esc(f.id)}" title="delete this rule">×</button></li>`;
          })
          .join('')
      : '<li class="muted">no faults</li>';
  }

  function renderJournal() {
    const r = state.journal;
    if (!r) return;
    const body = $('journal').tBodies[0];
    const problem = unavailable(r, 'journal');
    if (problem) {
      body.innerHTML = `<tr><td colspan="8" class="muted">${esc(problem)}</td></tr>`;
      return;
    }
    const own = $('journal-own').checked;
    const entries = listOf(r.data, 'entries')
      .filter((e) => own || !String(e.query || '').includes(MARK))
      .slice(-JOURNAL_ROWS)
      .reverse();
    body.innerHTML = entries.length
      ? entries
          .map((e) => {
            const status = e.status == null ? 'serr' : `s${String(e.status)[0]}`;
            const path = e.query ? `${e.path}?${e.query}` : e.path;
            const ms = e.duration_ms == null ? '' : Number(e.duration_ms).toFixed(1);
            return `<tr><td>${e.time == null ? '' : hms(e.time)}</td><td>${esc(e.api)}</td><td>${esc(e.method)}</td><td title="${esc(path)}">${esc(path)}</td><td class="${status}">${esc(e.status ?? e.error ?? '')}</td><td>${ms}</td><td>${esc(e.identity || '')}</td><td>${esc(e.fault || '')}</td></tr>`;
          })
          .join('')
      : `<tr><td colspan="8" class="muted">no requests yet${own ? '' : ' (besides the dashboard\u2019s own)'}</td></tr>`;
  }

  function renderSockets() {
    const r = state.sockets;
    if (!r) return;
    const ul = $('sockets');
    const problem = unavailable(r, 'connections');
    if (problem) {
      $('sockets-count').textContent = '?';
      ul.innerHTML = `<li class="muted">${esc(problem)}</li>`;
      return;
    }
    const s = r.data;
    $('sockets-count').textContent = `${s.count} here`;
    ul.innerHTML = (s.clients || [])
      .map((c) => `<li><span>${esc(c.path)} <span class="muted">${esc(c.peer || '')}</span></span><span class="muted">${c.dashboard ? 'this page' : `${esc(c.channels)} channels · ${esc(c.queued)} queued`}</span></li>`)
      .join('');
    const listed = state.tenants && state.tenants.ok ? state.tenants.data.tenants || [] : [];
    const names = listed.map((t) => t.name);
    $('tenants').innerHTML = names.map((n) => `<option value="${esc(n)}">`).join('');
  }

  // -- controls -----------------------------------------------------------------------------------

  async function act(button, label, call) {
    const status = $('action-status');
    if (button) button.disabled = true;
    status.textContent = `${label}…`;
    state.busy += 1;
    try {
      await call();
      status.textContent = `${label}: done`;
    } catch (error) {
      status.textContent = `${label} failed: ${error.message}`;
    } finally {
      if (button) button.disabled = false;
      state.busy -= 1;
    }
    refreshControl();
    refreshAverage(true);
  }

  async function refreshControl() {
    try {
      state.clock = await api('/_emulator/clock', { control: true });
      state.clockAt = Date.now();
      await pollControlPanels();
    } catch {
      // the regular poll reports it
    }
    invalidate('clock', 'status');
  }

  const post = (path, body) => api(path, { method: 'POST', body, control: true });

  function wire() {
    $('tenant').value = tenant;
    $('tenant-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const name = $('tenant').value.trim() || 'default';
      location.href = `/_t/${encodeURIComponent(name)}/_emulator/ui`;
    });
    $('pause').addEventListener('click', (event) => {
      const manual = state.clock && state.clock.mode === 'manual';
      act(event.currentTarget, manual ? 'resume' : 'pause', () => post('/_emulator/clock', { mode: manual ? 'realtime' : 'manual' }));
    });
    $('speed-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const speed = Number($('speed').value);
      act(event.submitter, `speed ×${speed}`, () => post('/_emulator/clock', { speed }));
    });
    $('advance-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const seconds = Number($('advance-seconds').value);
      act($('advance'), `advance ${seconds} s`, () => post('/_emulator/clock/advance', { seconds }));
    });
    $('scenario-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const name = $('scenario-select').value;
      act($('scenario-start'), `start ${name}`, () => post('/_emulator/scenario', { name }));
    });
    $('scenario-stop').addEventListener('click', (event) =>
      act(event.currentTarget, 'stop scenario', () => api('/_emulator/scenario', { method: 'DELETE', control: true })),
    );
    $('reset').addEventListener('click', (event) => act(event.currentTarget, 'reset', () => post('/_emulator/reset', {})));
    $('token-form').addEventListener('submit', (event) => {
      event.preventDefault();
      sessionStorage.setItem('emulator-admin-token', $('token').value.trim());
      refreshControl();
      loadScenarios();
    });
    $('fault-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const rule = { api: $('fault-api').value, path: $('fault-path').value.trim() || '*', effect: $('fault-effect').value };
      for (const [id, key] of [['fault-status', 'status'], ['fault-latency', 'latency_ms'], ['fault-count', 'count']]) {
        const value = $(id).value.trim();
        if (value) rule[key] = Number(value);
      }
      act($('fault-add'), `add fault ${rule.effect}`, () => post('/_emulator/faults', rule));
    });
    $('faults-clear').addEventListener('click', (event) =>
      act(event.currentTarget, 'clear faults', () => api('/_emulator/faults', { method: 'DELETE', control: true })),
    );
    $('faults-list').addEventListener('click', (event) => {
      const id = event.target.dataset && event.target.dataset.fault;
      if (id) act(event.target, 'delete fault', () => api(`/_emulator/faults/${encodeURIComponent(id)}`, { method: 'DELETE', control: true }));
    });
    $('journal-own').addEventListener('change', () => invalidate('journal'));
    window.addEventListener('resize', () => invalidate('price', 'depth'));
  }

  wire();
  invalidate('status', 'ticker', 'tape', 'price', 'book', 'depth');
  pollControl().then(() => connectFeed());
  pollAverage();
  loadScenarios();
})();
