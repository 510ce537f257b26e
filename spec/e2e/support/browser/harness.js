/*
 * Page-side harness for spec/e2e/strophe-browser.spec.ts. Runs in Chromium
 * after Strophe.js's browser UMD bundle (which defines window.Strophe, $iq,
 * $msg and $pres). The gateway's BOSH URL comes from the page's ?bosh= query
 * parameter. Everything is exposed as window.harness and returns plain JSON so
 * that Playwright's page.evaluate() can hand results back to the test.
 */
(function () {
  'use strict';

  var params = new URLSearchParams(location.search);
  var BOSH = params.get('bosh');
  var NS_PING = 'urn:xmpp:ping';

  Strophe.setLogLevel(Strophe.LogLevel.ERROR);

  var STATUS = {};
  Object.keys(Strophe.Status).forEach(function (k) {
    STATUS[Strophe.Status[k]] = k;
  });

  var state = { conn: null, statuses: [], inbox: [], traffic: [], waiters: [] };

  function record(kind, data) {
    state.traffic.push(new Date().toISOString().slice(11, 23) + ' ' + kind + ' ' + data);
  }

  function wake() {
    var w = state.waiters.splice(0);
    w.forEach(function (f) {
      f();
    });
  }

  function until(probe, ms, what) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () {
        reject(new Error('timed out after ' + ms + ' ms waiting for ' + what + '\n' + state.traffic.slice(-30).join('\n')));
      }, ms);
      function check() {
        var hit = probe();
        if (hit !== undefined) {
          clearTimeout(timer);
          resolve(hit);
        } else {
          state.waiters.push(check);
        }
      }
      check();
    });
  }

  function newConnection(options) {
    var conn = new Strophe.Connection(BOSH, options || {});
    conn.rawInput = function (d) {
      record('RECV', d);
    };
    conn.rawOutput = function (d) {
      record('SENT', d);
    };
    ['message', 'presence'].forEach(function (name) {
      conn.addHandler(
        function (st) {
          state.inbox.push(st);
          wake();
          return true;
        },
        null,
        name,
      );
    });
    state.conn = conn;
    return conn;
  }

  function onStatus(status, condition) {
    state.statuses.push({ status: STATUS[status] || String(status), condition: condition || null });
    record('STATUS', (STATUS[status] || status) + (condition ? ' (' + condition + ')' : ''));
    wake();
  }

  function waitStatus(names, ms, from) {
    return until(
      function () {
        return state.statuses.slice(from || 0).find(function (s) {
          return names.indexOf(s.status) >= 0;
        });
      },
      ms,
      'status ' + names.join('|'),
    );
  }

  function bodyOf(st) {
    var b = st.getElementsByTagName('body')[0];
    return b ? b.textContent : null;
  }

  function iq(builder, ms) {
    return new Promise(function (resolve, reject) {
      state.conn.sendIQ(
        builder,
        function (res) {
          resolve(res);
        },
        function (err) {
          if (err) resolve(err);
          else reject(new Error('no iq response within ' + ms + ' ms\n' + state.traffic.slice(-30).join('\n')));
        },
        ms,
      );
    });
  }

  function iqSummary(res) {
    var err = res.getElementsByTagName('error')[0];
    var cond = null;
    if (err) {
      for (var n = err.firstElementChild; n; n = n.nextElementSibling) {
        if (n.localName !== 'text') {
          cond = n.localName;
          break;
        }
      }
    }
    return {
      type: res.getAttribute('type'),
      from: res.getAttribute('from'),
      errorType: err ? err.getAttribute('type') : null,
      condition: cond,
    };
  }

  var FAIL = ['CONNFAIL', 'AUTHFAIL', 'ERROR', 'CONNTIMEOUT', 'DISCONNECTED'];

  window.harness = {
    boshUrl: BOSH,

    login: function (jid, password, opts) {
      opts = opts || {};
      var options = {};
      if (opts.keepalive) options.keepalive = true;
      if (opts.mechanism === 'PLAIN') options.mechanisms = [Strophe.SASLPlain];
      var conn = newConnection(options);
      var from = state.statuses.length;
      conn.connect(jid, password, onStatus);
      return waitStatus(['CONNECTED'].concat(FAIL), 10000, from).then(function (ev) {
        if (ev.status !== 'CONNECTED') {
          throw new Error('login ended in ' + ev.status + ' (' + ev.condition + ')\n' + state.traffic.join('\n'));
        }
        var sent = state.traffic.join('\n');
        var m = /<auth\b[^>]*\bmechanism=["']([^"']+)["']/.exec(sent);
        return {
          jid: conn.jid,
          mechanism: m ? m[1] : null,
          statuses: state.statuses.map(function (s) {
            return s.status;
          }),
        };
      });
    },

    /** Strophe's keepalive resume after a page reload (session read from sessionStorage). */
    restore: function (jid) {
      var conn = newConnection({ keepalive: true });
      var from = state.statuses.length;
      conn.restore(jid, onStatus);
      return waitStatus(['ATTACHED'].concat(FAIL), 2000, from).then(function (ev) {
        return { status: ev.status, jid: conn.jid };
      });
    },

    storedSession: function () {
      return JSON.parse(sessionStorage.getItem('strophe-bosh-session') || 'null');
    },

    /** Whether nothing waits to be sent and exactly one request is out (the server's side is read by the test). */
    idle: function () {
      var c = state.conn;
      return c._data.length === 0 && c._proto._requests.length === 1;
    },

    ping: function (to) {
      return iq($iq({ type: 'get', to: to }).c('ping', { xmlns: NS_PING }), 5000).then(iqSummary);
    },

    unknownIq: function (to) {
      return iq($iq({ type: 'get', to: to }).c('query', { xmlns: 'urn:example:e2e:unknown' }), 5000).then(iqSummary);
    },

    /** Initial presence, then a ping: its reply proves the presence was processed (RFC 6120 §10.1). */
    becomeAvailable: function (domain) {
      state.conn.send($pres());
      return this.ping(domain);
    },

    sendChat: function (to, body) {
      state.conn.send($msg({ to: to, type: 'chat' }).c('body').t(body));
    },

    waitForChat: function (body, ms) {
      return until(
        function () {
          return state.inbox.find(function (st) {
            return st.nodeName === 'message' && bodyOf(st) === body;
          });
        },
        ms || 5000,
        'chat "' + body + '"',
      ).then(function (st) {
        return { from: st.getAttribute('from'), to: st.getAttribute('to'), type: st.getAttribute('type'), body: bodyOf(st) };
      });
    },

    disconnect: function () {
      var c = state.conn;
      if (!c || !c.connected) return Promise.resolve([]);
      var from = state.statuses.length;
      c.disconnect();
      return waitStatus(['DISCONNECTED'], 8000, from).then(function () {
        return state.statuses.slice(from).map(function (s) {
          return s.status;
        });
      });
    },

    jid: function () {
      return state.conn ? state.conn.jid : null;
    },

    traffic: function () {
      return state.traffic.slice();
    },

    /** A raw BOSH session-creation request with fetch(); CORS failures reject with a TypeError. */
    fetchCreateSession: function (contentType) {
      var body =
        "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' rid='" +
        Math.floor(Math.random() * 1e9) +
        "' to='localhost' wait='1' hold='1' ver='1.6' xmpp:version='1.0' xml:lang='en'/>";
      return fetch(BOSH, { method: 'POST', headers: { 'Content-Type': contentType }, body: body }).then(
        function (res) {
          return res.text().then(function (text) {
            return { ok: true, status: res.status, body: text, error: null };
          });
        },
        function (err) {
          return { ok: false, status: 0, body: null, error: err.name + ': ' + err.message };
        },
      );
    },

    /** The same with XMLHttpRequest, the API Strophe uses: a CORS failure is status 0 + an error event. */
    xhrCreateSession: function () {
      return new Promise(function (resolve) {
        var xhr = new XMLHttpRequest();
        var events = [];
        xhr.onerror = function () {
          events.push('error');
        };
        xhr.onload = function () {
          events.push('load');
        };
        xhr.onloadend = function () {
          resolve({ status: xhr.status, readyState: xhr.readyState, responseText: xhr.responseText, events: events });
        };
        xhr.open('POST', BOSH);
        xhr.setRequestHeader('Content-Type', 'text/xml; charset=utf-8');
        xhr.send(
          "<body xmlns='http://jabber.org/protocol/httpbind' rid='" + Math.floor(Math.random() * 1e9) + "' to='localhost' wait='1' hold='1' ver='1.6'/>",
        );
      });
    },
  };

  document.getElementById('status').textContent = 'harness ready';
})();
