// The counter display's live status (templates/counter.html). Plain JavaScript, no
// framework. Listens to the payment's server-sent events and shows each state it is
// sent; counts the time left down itself (against the server's clock, not the tablet's)
// and shows "expired" at zero. The browser's EventSource reconnects by itself and sends
// Last-Event-ID (the payment version it last saw); if the stream is refused or closed
// for good, this opens a new one after a pause, until the state is final.
(function () {
  "use strict";
  var dataElement = document.getElementById("counter-data");
  if (!dataElement || !window.EventSource) { return; }
  var data = JSON.parse(dataElement.textContent);
  var FINAL = { paid: true, paid_late: true, cancelled: true };
  var status = document.getElementById("status");
  var statusText = document.getElementById("status-text");
  var statusOther = document.getElementById("status-other");
  var qr = document.getElementById("qr");
  var timeLeftFact = document.getElementById("time-left-fact");
  var timeLeft = document.getElementById("time-left");
  var connection = document.getElementById("connection");
  // server time minus this tablet's time, so the countdown follows the server
  var clockOffsetMs = Date.parse(data.server_now) - Date.now();
  var expiresAtMs = Date.parse(data.view.expires_at);
  var view = data.view;
  var shownState = null;
  var source = null;
  var retryMs = 1000;

  function words(language, state) {
    return data.states[language][state].replace("{due}", view.due);
  }

  function shownStateOf(current) {
    if (current.state === "pending" || current.state === "underpaid") {
      if (Date.now() + clockOffsetMs >= expiresAtMs) { return "expired"; }
    }
    return current.state;
  }

  function show(current) {
    view = current;
    expiresAtMs = Date.parse(current.expires_at);
    var state = shownStateOf(current);
    if (state === shownState && statusText.dataset.due === current.due) { return; }
    shownState = state;
    statusText.dataset.due = current.due;
    status.className = "status state-" + state;
    statusText.textContent = words(data.lang, state);
    statusOther.textContent = words(data.other, state);
    qr.hidden = state !== "pending";
    timeLeftFact.hidden = state !== "pending" && state !== "underpaid";
    document.body.dataset.state = state;
  }

  function tick() {
    var seconds = Math.max(0, Math.floor((expiresAtMs - (Date.now() + clockOffsetMs)) / 1000));
    var minutes = Math.floor(seconds / 60);
    var text = minutes + ":" + String(seconds % 60).padStart(2, "0");
    if (minutes >= 60) {
      text = Math.floor(minutes / 60) + ":" + String(minutes % 60).padStart(2, "0") + ":" +
        String(seconds % 60).padStart(2, "0");
    }
    if (timeLeft.textContent !== text) {
      timeLeft.textContent = text;
      timeLeft.setAttribute("datetime", "PT" + seconds + "S");
    }
    show(view);
  }

  function connected(live) {
    connection.textContent = live ? connection.dataset.live : connection.dataset.lost;
    connection.className = live ? "connection live" : "connection lost";
  }

  function listen() {
    source = new EventSource(data.events);
    source.addEventListener("open", function () { retryMs = 1000; connected(true); });
    source.addEventListener("payment", function (event) {
      show(JSON.parse(event.data));
      if (FINAL[view.state]) {
        source.close();
        connection.textContent = "";
      }
    });
    source.addEventListener("error", function () {
      if (FINAL[view.state]) { return; }
      connected(false);
      if (source.readyState === EventSource.CLOSED) {
        // refused or ended for good (the browser will not retry): try again ourselves
        window.setTimeout(listen, retryMs);
        retryMs = Math.min(retryMs * 2, 30000);
      }
    });
  }

  show(view);
  tick();
  window.setInterval(tick, 250);
  if (!FINAL[view.state]) { listen(); }
})();
