/*
 * The gateway's try-it page. XMPP is Strophe.js's (window.Strophe, $iq, $msg, $pres, loaded just
 * before); this file is the DOM around it. Text from the network only ever reaches the page
 * through textContent.
 *
 * A reload resumes the BOSH session: Strophe's `keepalive` keeps jid/sid/rid in sessionStorage and
 * restore() attaches to it. What the page knows (roster, presence, chats) is kept next to it, since
 * the server does not send contacts' presence again to a session that is already available.
 */
(function () {
  'use strict';

  var NS_ROSTER = 'jabber:iq:roster';
  var NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
  var NS_DELAY = 'urn:xmpp:delay';
  var VIEW_KEY = 'bosh-web-client';
  var STROPHE_KEY = 'strophe-bosh-session';
  var MAX_MESSAGES = 200;
  var Status = Strophe.Status;

  function byId(id) {
    return document.getElementById(id);
  }

  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute('content') : '';
  }

  var ui = {
    status: byId('status'),
    logout: byId('logout'),
    loginForm: byId('login-form'),
    loginJid: byId('login-jid'),
    loginPassword: byId('login-password'),
    loginBosh: byId('login-bosh'),
    workspace: byId('workspace'),
    roster: byId('roster'),
    rosterEmpty: byId('roster-empty'),
    requestsSection: byId('requests-section'),
    requests: byId('requests'),
    addForm: byId('add-form'),
    addJid: byId('add-jid'),
    chatHeading: byId('chat-heading'),
    chatEmpty: byId('chat-empty'),
    messages: byId('messages'),
    sendForm: byId('send-form'),
    messageText: byId('message-text'),
  };

  var DOMAIN = meta('xmpp-domain');
  var DEFAULT_BOSH = new URL(meta('bosh-path'), location.href).href;

  Strophe.setLogLevel(Strophe.LogLevel.WARN);

  var conn = null;
  var view = emptyView('', DEFAULT_BOSH);
  /** Why the connection is about to end, shown once it has (AUTHFAIL and CONNFAIL come before DISCONNECTED). */
  var endReason = null;
  /** A restored session is not known to be alive until the server answers on it. */
  var resuming = false;

  function emptyView(jid, bosh) {
    // roster: bare JID → {name, subscription, ask}; presence: bare JID → resource → {show, status}.
    return { jid: jid, bosh: bosh, presenceSent: false, roster: {}, presence: {}, requests: [], messages: {}, unread: {}, open: null };
  }

  function saveView() {
    if (view.jid) sessionStorage.setItem(VIEW_KEY, JSON.stringify(view));
  }

  function loadView() {
    try {
      return JSON.parse(sessionStorage.getItem(VIEW_KEY) || 'null');
    } catch (e) {
      return null;
    }
  }

  function bare(jid) {
    return Strophe.getBareJidFromJid(jid || '') || '';
  }

  /** "alice" → alice@<gateway domain> (and "alice/phone" → alice@<domain>/phone). */
  function withDomain(text) {
    text = text.trim();
    return text === '' || text.indexOf('@') >= 0
      ? text
      : text.replace(/^[^/]*/, function (local) {
          return local + '@' + DOMAIN;
        });
  }

  /** The first child element `name` in namespace `ns`, by default the parent's (so not an XHTML-IM <body>). */
  function child(el, name, ns) {
    for (var c = el.firstElementChild; c; c = c.nextElementSibling) {
      if (c.localName === name && c.namespaceURI === (ns || el.namespaceURI)) return c;
    }
    return null;
  }

  function childText(el, name) {
    var c = child(el, name);
    return c ? c.textContent : null;
  }

  /** The defined condition of a stanza error (RFC 6120 §8.3.3), e.g. 'item-not-found'. */
  function errorCondition(stanza) {
    var error = stanza && child(stanza, 'error');
    if (!error) return 'no answer';
    for (var c = error.firstElementChild; c; c = c.nextElementSibling) {
      if (c.namespaceURI === NS_STANZAS && c.localName !== 'text') return c.localName;
    }
    return 'error';
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setStatus(state, text) {
    ui.status.dataset.state = state;
    ui.status.textContent = text;
  }

  // --- connection ---------------------------------------------------------------------------------

  function newConnection(bosh) {
    var c = new Strophe.Connection(bosh, { keepalive: true });
    c.addHandler(onMessage, null, 'message');
    c.addHandler(onPresence, null, 'presence');
    c.addHandler(onRosterPush, NS_ROSTER, 'iq', 'set');
    return c;
  }

  function onStatus(status, condition) {
    switch (status) {
      case Status.CONNECTING:
        setStatus('connecting', 'Connecting…');
        break;
      case Status.AUTHENTICATING:
        setStatus('connecting', 'Authenticating…');
        break;
      case Status.CONNECTED:
        view = emptyView(bare(conn.jid), conn.service);
        started('Online as ' + conn.jid);
        break;
      case Status.ATTACHED: {
        var saved = loadView();
        view = saved && saved.jid === bare(conn.jid) ? saved : emptyView(bare(conn.jid), conn.service);
        started('Session resumed as ' + conn.jid);
        break;
      }
      case Status.AUTHFAIL:
        // Strophe leaves the stream open after a SASL failure; end it (DISCONNECTED follows).
        endReason = 'Login failed: wrong JID or password';
        setStatus('offline', endReason);
        conn.disconnect();
        break;
      case Status.CONNFAIL:
        endReason = resuming ? 'The session has ended; please log in again' : 'Connection failed' + (condition ? ' (' + condition + ')' : '');
        break;
      case Status.CONNTIMEOUT:
        endReason = 'Connection timed out';
        break;
      case Status.ERROR:
        endReason = 'Connection error' + (condition ? ' (' + condition + ')' : '');
        break;
      case Status.DISCONNECTING:
        setStatus('connecting', 'Logging out…');
        break;
      case Status.DISCONNECTED:
        ended(endReason || 'Logged out');
        break;
    }
  }

  function started(text) {
    endReason = null;
    setStatus('online', text);
    ui.loginForm.hidden = true;
    ui.workspace.hidden = false;
    ui.logout.hidden = false;
    ui.loginPassword.value = '';
    changed();
    renderChat();
    // RFC 6121 §2.2 roster get, then (first time only) initial presence, §4.2.
    conn.sendIQ(
      $iq({ type: 'get' }).c('query', { xmlns: NS_ROSTER }),
      function (result) {
        resuming = false;
        view.roster = {};
        var query = child(result, 'query', NS_ROSTER);
        if (query) Array.prototype.forEach.call(query.getElementsByTagName('item'), applyRosterItem);
        sendInitialPresence();
        changed();
      },
      function (error) {
        setStatus('online', text + ' (roster not loaded: ' + errorCondition(error) + ')');
        sendInitialPresence();
      },
      10000,
    );
  }

  function sendInitialPresence() {
    if (view.presenceSent) return;
    conn.send($pres());
    view.presenceSent = true;
    saveView();
  }

  function ended(text) {
    conn = null;
    resuming = false;
    endReason = null;
    sessionStorage.removeItem(VIEW_KEY);
    sessionStorage.removeItem(STROPHE_KEY);
    view = emptyView('', view.bosh || DEFAULT_BOSH);
    ui.workspace.hidden = true;
    ui.logout.hidden = true;
    showLogin();
    setStatus('offline', text);
  }

  function showLogin() {
    ui.loginForm.hidden = false;
    if (!ui.loginBosh.value) ui.loginBosh.value = view.bosh || DEFAULT_BOSH;
    (ui.loginJid.value ? ui.loginPassword : ui.loginJid).focus();
  }

  // --- stanzas ------------------------------------------------------------------------------------

  function applyRosterItem(item) {
    var jid = bare(item.getAttribute('jid'));
    if (!jid) return;
    if (item.getAttribute('subscription') === 'remove') {
      delete view.roster[jid];
      delete view.presence[jid];
      return;
    }
    view.roster[jid] = {
      name: item.getAttribute('name') || '',
      subscription: item.getAttribute('subscription') || 'none',
      ask: item.getAttribute('ask') === 'subscribe',
    };
  }

  /** RFC 6121 §2.1.6: a push is only trusted from the account itself. */
  function onRosterPush(iq) {
    var from = iq.getAttribute('from');
    if (from && bare(from) !== view.jid) return true;
    var query = child(iq, 'query', NS_ROSTER);
    if (query) Array.prototype.forEach.call(query.getElementsByTagName('item'), applyRosterItem);
    conn.send($iq({ type: 'result', id: iq.getAttribute('id') }));
    changed();
    return true;
  }

  function seesTheirPresence(jid) {
    var item = view.roster[jid];
    return !!item && (item.subscription === 'to' || item.subscription === 'both' || item.ask);
  }

  function onPresence(p) {
    var from = p.getAttribute('from');
    var who = bare(from);
    if (!who || who === view.jid) return true;
    var resource = Strophe.getResourceFromJid(from) || '';
    var type = p.getAttribute('type');
    if (type === 'subscribe') {
      // We asked for theirs (added them here), so they get ours without a second question.
      if (seesTheirPresence(who)) conn.send($pres({ to: who, type: 'subscribed' }));
      else if (view.requests.indexOf(who) < 0) view.requests.push(who);
    } else if (type === 'unsubscribe') {
      view.requests = view.requests.filter(function (j) {
        return j !== who;
      });
    } else if (type === 'unavailable') {
      if (view.presence[who]) delete view.presence[who][resource];
    } else if (!type) {
      view.presence[who] = view.presence[who] || {};
      view.presence[who][resource] = { show: childText(p, 'show') || '', status: childText(p, 'status') || '' };
    }
    changed();
    return true;
  }

  function onMessage(m) {
    var type = m.getAttribute('type') || 'normal';
    var who = bare(m.getAttribute('from'));
    if (!who || type === 'groupchat' || type === 'headline') return true;
    if (type === 'error') {
      addMessage(who, { dir: 'error', text: 'Not delivered: ' + errorCondition(m), time: Date.now() });
      return true;
    }
    var body = childText(m, 'body');
    if (body === null) return true;
    // XEP-0203: offline messages carry the time they were sent.
    var delay = child(m, 'delay', NS_DELAY);
    var time = (delay && Date.parse(delay.getAttribute('stamp'))) || Date.now();
    addMessage(who, { dir: 'in', text: body, time: time });
    return true;
  }

  function addMessage(who, message) {
    var list = (view.messages[who] = view.messages[who] || []);
    list.push(message);
    if (list.length > MAX_MESSAGES) list.splice(0, list.length - MAX_MESSAGES);
    if (who === view.open) ui.messages.appendChild(messageItem(message, who));
    else if (message.dir !== 'out') view.unread[who] = (view.unread[who] || 0) + 1;
    ui.messages.scrollTop = ui.messages.scrollHeight;
    changed();
  }

  // --- rendering ----------------------------------------------------------------------------------

  var PRESENCE = {
    chat: { rank: 0, key: 'online', label: 'online' },
    '': { rank: 1, key: 'online', label: 'online' },
    away: { rank: 2, key: 'away', label: 'away' },
    xa: { rank: 3, key: 'away', label: 'away (extended)' },
    dnd: { rank: 4, key: 'busy', label: 'do not disturb' },
  };
  var OFFLINE = { rank: 9, key: 'offline', label: 'offline' };

  /** The most available of the contact's resources. */
  function presenceOf(jid) {
    var best = OFFLINE;
    var status = '';
    var resources = view.presence[jid] || {};
    Object.keys(resources).forEach(function (r) {
      var p = PRESENCE[resources[r].show] || PRESENCE[''];
      if (p.rank < best.rank) {
        best = p;
        status = resources[r].status;
      }
    });
    return { key: best.key, label: best.label, status: status };
  }

  function displayName(jid) {
    var item = view.roster[jid];
    return (item && item.name) || jid;
  }

  function contactNote(jid) {
    var item = view.roster[jid];
    if (!item) return 'not in your contacts';
    if (item.ask) return 'waiting for approval';
    if (item.subscription === 'none' || item.subscription === 'from') return 'presence not shared';
    return '';
  }

  function contactItem(jid) {
    var presence = presenceOf(jid);
    var li = el('li', 'contact');
    li.dataset.jid = jid;
    li.dataset.presence = presence.key;
    var button = el('button', 'contact-button');
    button.type = 'button';
    button.dataset.jid = jid;
    if (jid === view.open) button.setAttribute('aria-current', 'true');
    // Spaces between the parts keep the text (and the button's accessible name) readable.
    button.append(el('span', 'contact-name', displayName(jid)), ' ');
    button.append(el('span', 'presence presence-' + presence.key, presence.label + (presence.status ? ': ' + presence.status : '')));
    var note = contactNote(jid);
    if (note) button.append(' ', el('span', 'contact-note', note));
    var unread = view.unread[jid];
    if (unread) button.append(' ', el('span', 'badge', unread + ' new'));
    button.addEventListener('click', function () {
      openChat(jid);
    });
    li.appendChild(button);
    return li;
  }

  function renderRoster() {
    var focused = document.activeElement && document.activeElement.classList.contains('contact-button') ? document.activeElement.dataset.jid : null;
    var jids = Object.keys(view.roster);
    Object.keys(view.messages).forEach(function (j) {
      if (jids.indexOf(j) < 0) jids.push(j);
    });
    jids.sort();
    ui.roster.replaceChildren.apply(ui.roster, jids.map(contactItem));
    ui.rosterEmpty.hidden = jids.length > 0;
    if (focused) {
      var again = ui.roster.querySelector('button[data-jid="' + CSS.escape(focused) + '"]');
      if (again) again.focus();
    }
  }

  function renderRequests() {
    ui.requestsSection.hidden = view.requests.length === 0;
    ui.requests.replaceChildren.apply(
      ui.requests,
      view.requests.map(function (jid) {
        var li = el('li', 'request');
        var accept = requestButton('Accept', jid, function () {
          // RFC 6121 §3.1.5 approve, and ask for theirs in return unless we already did.
          conn.send($pres({ to: jid, type: 'subscribed' }));
          if (!seesTheirPresence(jid)) conn.send($pres({ to: jid, type: 'subscribe' }));
        });
        var decline = requestButton('Decline', jid, function () {
          conn.send($pres({ to: jid, type: 'unsubscribed' }));
        });
        li.append(el('span', 'request-text', jid + ' wants to see your presence'), ' ', accept, ' ', decline);
        return li;
      }),
    );
  }

  function requestButton(label, jid, action) {
    var button = el('button', null, label);
    button.type = 'button';
    button.setAttribute('aria-label', label + ' ' + jid);
    button.addEventListener('click', function () {
      action();
      view.requests = view.requests.filter(function (j) {
        return j !== jid;
      });
      changed();
    });
    return button;
  }

  function messageItem(message, who) {
    var li = el('li', 'message message-' + message.dir);
    var time = el('time', 'message-time', new Date(message.time).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
    time.dateTime = new Date(message.time).toISOString();
    var from = message.dir === 'out' ? 'me' : message.dir === 'error' ? 'error' : displayName(who);
    li.append(el('span', 'message-from', from), ' ', time, ' ', el('p', 'message-text', message.text));
    return li;
  }

  function renderChat() {
    var who = view.open;
    ui.chatHeading.textContent = who ? 'Chat with ' + displayName(who) : 'Chat';
    ui.chatEmpty.hidden = !!who;
    ui.messages.hidden = !who;
    ui.sendForm.hidden = !who;
    ui.messages.replaceChildren.apply(
      ui.messages,
      (view.messages[who] || []).map(function (m) {
        return messageItem(m, who);
      }),
    );
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }

  /** The state changed: redraw the lists (cheap at this size) and keep it for a reload. */
  function changed() {
    renderRoster();
    renderRequests();
    saveView();
  }

  function openChat(jid) {
    view.open = jid;
    delete view.unread[jid];
    renderChat();
    changed();
    ui.messageText.focus();
  }

  // --- forms --------------------------------------------------------------------------------------

  ui.loginForm.addEventListener('submit', function (event) {
    event.preventDefault();
    var jid = withDomain(ui.loginJid.value);
    ui.loginJid.value = jid;
    endReason = null;
    resuming = false;
    conn = newConnection(ui.loginBosh.value.trim() || DEFAULT_BOSH);
    conn.connect(jid, ui.loginPassword.value, onStatus);
  });

  ui.logout.addEventListener('click', function () {
    if (conn) conn.disconnect('logout');
  });

  ui.addForm.addEventListener('submit', function (event) {
    event.preventDefault();
    var jid = bare(withDomain(ui.addJid.value));
    if (!jid || jid === view.jid) {
      setStatus('online', 'Enter someone else’s JID to add');
      return;
    }
    // RFC 6121 §2.3 roster set, then §3.1.1 subscription request.
    conn.sendIQ(
      $iq({ type: 'set' }).c('query', { xmlns: NS_ROSTER }).c('item', { jid: jid }),
      function () {
        conn.send($pres({ to: jid, type: 'subscribe' }));
        ui.addJid.value = '';
      },
      function (error) {
        setStatus('online', 'Could not add ' + jid + ': ' + errorCondition(error));
      },
      10000,
    );
  });

  ui.sendForm.addEventListener('submit', function (event) {
    event.preventDefault();
    var text = ui.messageText.value;
    if (!view.open || text.trim() === '') return;
    conn.send(
      $msg({ to: view.open, type: 'chat', id: conn.getUniqueId('msg') })
        .c('body')
        .t(text),
    );
    ui.messageText.value = '';
    addMessage(view.open, { dir: 'out', text: text, time: Date.now() });
  });

  // --- start: resume the tab's session if Strophe kept one, else ask for a login ----------------------

  var saved = loadView();
  ui.loginBosh.value = (saved && saved.bosh) || DEFAULT_BOSH;
  ui.loginJid.placeholder = 'alice@' + DOMAIN;
  ui.addJid.placeholder = 'bob@' + DOMAIN;
  if (sessionStorage.getItem(STROPHE_KEY)) {
    try {
      resuming = true;
      setStatus('connecting', 'Resuming session…');
      conn = newConnection(ui.loginBosh.value);
      conn.restore(saved ? saved.jid : undefined, onStatus);
    } catch (e) {
      conn = null;
      resuming = false;
      setStatus('offline', 'Not connected');
      showLogin();
    }
  } else {
    setStatus('offline', 'Not connected');
    showLogin();
  }
})();
