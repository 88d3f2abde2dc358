/*
 * The chat page: one WebSocket to /chat (docs/web.rst), native lines out,
 * JSON messages in.
 *
 * Everything that comes from the server or from a user is put in the page
 * as text (textContent, createTextNode), never as markup, and nothing
 * becomes a link.  Passwords are kept in this page's memory only; the
 * nickname and the language are remembered in localStorage.
 */
(function () {
  "use strict";

  var STRINGS = window.CHAT_STRINGS;
  var MAX_LINE_BYTES = 2048;
  var MAX_LINES = 1000;            // per conversation; the oldest go first
  var BACKOFF_MS = [1000, 2000, 4000, 8000, 10000];
  // The waits start over once a connection has kept its nickname this
  // long: a server that welcomes and drops at once (a cluster's node cut
  // off from the others) is tried ever more slowly, not every second.
  var STEADY_MS = 10000;
  // Waits before choosing the same nickname again when it is refused: the
  // server may not have noticed yet that our last connection is gone.
  var NICKNAME_RETRIES_S = [2, 3, 5, 8];     // after a lost connection
  var NICKNAME_RETRIES_LOAD_S = [1, 2];      // a reload, with the remembered one
  var HISTORY_AFTER_RECONNECT = 100;
  var KEY_NICKNAME = "chatsvc.nickname";
  var KEY_LANGUAGE = "chatsvc.language";
  var PASSWORD_COMMAND = /^\/(register|identify|password|drop|oper)\b/i;

  var $ = function (id) { return document.getElementById(id); };
  var encoder = new TextEncoder();

  // ---- small helpers -------------------------------------------------

  function load(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }

  function remember(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* private mode */ }
  }

  /** The key two nicknames (or rooms) share when the server takes them as one. */
  function fold(name) {
    return String(name).normalize("NFKC").toLowerCase();
  }

  function utf8Length(text) {
    return encoder.encode(text).length;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function two(n) { return (n < 10 ? "0" : "") + n; }

  function clock(seconds) {
    var when = new Date(seconds * 1000);
    return two(when.getHours()) + ":" + two(when.getMinutes());
  }

  function senderOf(ev) {
    return ev.sender && typeof ev.sender.nickname === "string" ? ev.sender.nickname : "?";
  }

  // ---- language ------------------------------------------------------

  var language = chooseLanguage();

  function chooseLanguage() {
    var saved = load(KEY_LANGUAGE);
    if (saved && STRINGS.hasOwnProperty(saved)) { return saved; }
    var wanted = navigator.languages && navigator.languages.length
      ? navigator.languages : [navigator.language || "en"];
    for (var i = 0; i < wanted.length; i++) {
      var primary = String(wanted[i]).toLowerCase().split("-")[0];
      if (primary === "pl" || primary === "en") { return primary; }
    }
    return "en";
  }

  /** The page's words for key, with each {name} replaced by params[name]. */
  function t(key, params) {
    var table = STRINGS[language] || STRINGS.en;
    var text = table.hasOwnProperty(key) ? table[key] : STRINGS.en[key];
    if (text === undefined) { return key; }
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return params && params.hasOwnProperty(name) ? String(params[name]) : whole;
    });
  }

  function applyLanguage() {
    document.documentElement.lang = language;
    $("language").value = language;
    var nodes = document.querySelectorAll("[data-i18n]");
    for (var i = 0; i < nodes.length; i++) {
      nodes[i].textContent = t(nodes[i].getAttribute("data-i18n"));
    }
    nodes = document.querySelectorAll("[data-i18n-label]");
    for (i = 0; i < nodes.length; i++) {
      nodes[i].setAttribute("aria-label", t(nodes[i].getAttribute("data-i18n-label")));
    }
    document.title = t("title");
    showStatus();
    showLoginLabels();
    renderRooms();
    renderTabs();
    renderMembers();
    renderConversationHead();
    Object.keys(conversations).forEach(function (key) {
      conversations[key].entries.forEach(function (entry) {
        if (entry.ev) { fillEventLine(entry.el, entry.ev); }
      });
    });
  }

  // ---- state ---------------------------------------------------------

  var nickname = load(KEY_NICKNAME) || "";  // the one chosen, or the last one had
  var serverPassword = null;                 // memory only
  var accountPasswords = {};                 // fold(account) -> password, memory only
  var room = null;                           // the room the session is in ("" none)
  var wantedRoom = "";                       // the room to come back to
  var topic = "";
  var members = {};                          // fold(nickname) -> member
  var roomsListed = [];
  var conversations = {};                    // key -> conversation
  var order = [];                            // keys of the tabs, in order
  var active = null;                         // key of the conversation shown
  var roomTab = null;                        // key of the room conversation tabbed
  var sentLines = [];                        // input history, without passwords
  var historyIndex = -1;

  // One connection's state; replaced at each connection.
  var conn = null;
  var attempt = 0;
  var welcomedAt = null;                     // when the nickname was last accepted
  var timer = null;
  var countdown = null;
  var stopped = false;                       // no reconnecting (killed, /quit)
  var everRegistered = false;
  var status = { key: "connecting", params: {} };

  // ---- conversations -------------------------------------------------

  function conversationKey(kind, name) { return kind + ":" + fold(name); }

  function conversation(kind, name) {
    var key = conversationKey(kind, name);
    var conv = conversations[key];
    if (!conv) {
      var list = element("ol", "lines");
      conv = conversations[key] = {
        key: key, kind: kind, name: name, list: list,
        ids: new Set(), entries: [], unread: 0
      };
      if (kind === "private") { order.push(key); }
      renderTabs();
    }
    return conv;
  }

  function roomConversation(name) { return conversation("room", name); }

  function privateConversation(name) {
    var conv = conversation("private", name);
    conv.name = name;   // as they spell it now
    return conv;
  }

  /** The conversation the page words its own notices in. */
  function currentConversation() {
    if (active && conversations[active]) { return conversations[active]; }
    var conv = roomConversation(room || wantedRoom || "lobby");
    roomTab = conv.key;
    show(conv.key);
    return conv;
  }

  function nearBottom(box) {
    return box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  }

  function trim(conv) {
    while (conv.list.childNodes.length > MAX_LINES) {
      var first = conv.list.firstChild;
      if (conv.entries.length && conv.entries[0].el === first) { conv.entries.shift(); }
      conv.list.removeChild(first);
    }
  }

  /** Put li in conv's list; it counts as unread unless shown, or one's own. */
  function placed(conv, li, before, own) {
    var box = $("log");
    var shown = conv.key === active;
    var stick = shown && nearBottom(box);
    if (before) { conv.list.insertBefore(li, before); } else { conv.list.appendChild(li); }
    trim(conv);
    if (stick) { box.scrollTop = box.scrollHeight; }
    if (!shown && !own) { conv.unread += 1; renderTabs(); }
  }

  /**
   * Show an event in conv, once: an id seen before is skipped, and an event
   * older than the last one shown goes where its time puts it.
   */
  function addEvent(conv, ev) {
    if (ev.id) {
      if (conv.ids.has(ev.id)) { return false; }
      conv.ids.add(ev.id);
    }
    var li = element("li", "line");
    if (!fillEventLine(li, ev)) { return false; }
    var time = typeof ev.time === "number" ? ev.time : Date.now() / 1000;
    var i = conv.entries.length;
    while (i > 0 && conv.entries[i - 1].time > time) { i -= 1; }
    var before = i < conv.entries.length ? conv.entries[i].el : null;
    conv.entries.splice(i, 0, { ev: ev, time: time, el: li });
    var own = ev.own === true || (ev.sender && fold(ev.sender.nickname || "") === fold(nickname || ""));
    placed(conv, li, before, own);
    return true;
  }

  function addEvents(conv, events) {
    if (!Array.isArray(events)) { return; }
    events.forEach(function (ev) {
      if (ev && typeof ev === "object") { addEvent(conv, ev); }
    });
  }

  /** A line the server worded (info, error) or the page did, shown now. */
  function addNote(conv, className, text) {
    var li = element("li", "line " + className);
    li.appendChild(element("time", "time", clock(Date.now() / 1000)));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(element("span", "text", text));
    placed(conv, li, null);
  }

  function notice(key, params) {
    addNote(currentConversation(), "notice", t(key, params));
  }

  // ---- wording events ------------------------------------------------

  function names(list) {
    list = Array.isArray(list) ? list : [];
    if (list.length > 5) {
      return t("andOthers", { names: list.slice(0, 3).join(", "), count: list.length - 3 });
    }
    return list.join(", ");
  }

  function modeText(changes) {
    var letters = "";
    var args = [];
    var sign = null;
    (Array.isArray(changes) ? changes : []).forEach(function (change) {
      var now = change.adding ? "+" : "-";
      if (now !== sign) { letters += now; sign = now; }
      letters += change.letter;
      if (change.argument !== null && change.argument !== undefined) { args.push(change.argument); }
    });
    return [letters].concat(args).join(" ");
  }

  /**
   * Fill li with the line for ev, in the page's language; false for an
   * event the log does not show.  Every value goes in as text.
   */
  function fillEventLine(li, ev) {
    var who = senderOf(ev);
    var kind = ev.kind;
    var text = null;        // a notice's words
    var speech = null;      // [nickname, text, action?]
    switch (kind) {
      case "Said": speech = [who, ev.text, false]; break;
      case "Acted": speech = [who, ev.text, true]; break;
      case "Whispered": speech = [who, ev.text, !!ev.action]; break;
      case "Joined": text = t("joined", { nickname: who }); break;
      case "Left":
        text = ev.reason ? t("leftReason", { nickname: who, reason: ev.reason })
          : t("left", { nickname: who });
        break;
      case "Parted":
        text = ev.reason ? t("partedReason", { nickname: who, room: ev.room, reason: ev.reason })
          : t("parted", { nickname: who, room: ev.room });
        break;
      case "Renamed": text = t("renamed", { old: who, "new": ev["new"] }); break;
      case "Departed": text = t("departed", { nickname: who, destination: ev.destination }); break;
      case "Arrived": text = t("arrived", { nickname: who, origin: ev.origin }); break;
      case "TopicChanged":
        text = ev.topic ? t("topicSet", { nickname: who, topic: ev.topic })
          : t("topicCleared", { nickname: who });
        break;
      case "ModeChanged": text = t("modes", { nickname: who, modes: modeText(ev.changes) }); break;
      case "Kicked":
        text = ev.reason
          ? t("kickedReason", { nickname: who, target: ev.nickname, room: ev.room, reason: ev.reason })
          : t("kicked", { nickname: who, target: ev.nickname, room: ev.room });
        break;
      case "Crowd":
        text = [];
        if (ev.joined && ev.joined.length) { text.push(t("crowdJoined", { names: names(ev.joined) })); }
        if (ev.left && ev.left.length) { text.push(t("crowdLeft", { names: names(ev.left) })); }
        if (!text.length) { return false; }
        text = text.join(" ");
        break;
      case "AccountChanged":
        // Only one's own: the native front-end tells nobody else.
        if (!ev.own) { return false; }
        text = ev.account ? t("loggedIn", { account: ev.account }) : t("loggedOut");
        break;
      case "Invited": text = t("invited", { nickname: who, room: ev.room }); break;
      case "InviteNotice": text = t("inviteNotice", { nickname: who, target: ev.nickname, room: ev.room }); break;
      case "Wallops": text = t("wallops", { nickname: who, text: ev.text }); break;
      case "Killed": text = t("killed", { nickname: who, reason: ev.reason }); break;
      case "Dropped":
        // The cluster let this page go, no operator: it reconnects by itself.
        if (ev.why === "taken") { text = t("droppedTaken", { nickname: ev.nickname }); }
        else if (ev.why === "unreachable") { text = t("droppedUnreachable"); }
        else { text = t("droppedLost"); }
        break;
      case "TimedOut": text = t("timedOut"); break;
      case "Closing": text = t("closing"); break;
      case "Announcement":
        if (ev.what === "history-failing") { text = t("historyFailing"); }
        else if (ev.what === "history-back") { text = t("historyBack"); }
        else { return false; }
        break;
      default: return false;
    }
    li.replaceChildren();
    li.className = "line kind-" + kind + (ev.own ? " own" : "") + (speech ? "" : " notice");
    if (ev.id) { li.setAttribute("data-id", ev.id); }
    li.setAttribute("data-kind", kind);
    var stamp = element("time", "time", clock(ev.time || Date.now() / 1000));
    if (typeof ev.time === "number") {
      stamp.setAttribute("datetime", new Date(ev.time * 1000).toISOString());
    }
    li.appendChild(stamp);
    li.appendChild(document.createTextNode(" "));
    if (speech) {
      var nick = element("span", "nick " + colourOf(speech[0]), speech[0]);
      if (speech[2]) {
        li.appendChild(element("span", "action-mark", "* "));
        li.appendChild(nick);
        li.appendChild(document.createTextNode(" "));
      } else {
        li.appendChild(nick);
        li.appendChild(element("span", "separator", ": "));
      }
      li.appendChild(element("span", "text", speech[1]));
    } else {
      li.appendChild(element("span", "text", text));
    }
    return true;
  }

  function colourOf(name) {
    var folded = fold(name);
    var hash = 2166136261;   // FNV-1a
    for (var i = 0; i < folded.length; i++) {
      hash = Math.imul(hash ^ folded.charCodeAt(i), 16777619) >>> 0;
    }
    return "c" + (hash % 8);
  }

  // ---- members -------------------------------------------------------

  function setMember(nick, fields) {
    var key = fold(nick);
    var member = members[key] || { nickname: nick, role: "member", away: null, account: null };
    member.nickname = nick;
    Object.keys(fields || {}).forEach(function (name) {
      if (name !== "nickname") { member[name] = fields[name]; }
    });
    members[key] = member;
    return member;
  }

  function dropMember(nick) { delete members[fold(nick)]; }

  var RANK = { operator: 0, voice: 1, member: 2 };

  function rank(member) {
    return RANK.hasOwnProperty(member.role) ? RANK[member.role] : RANK.member;
  }

  function renderMembers() {
    var list = $("members-list");
    var sorted = Object.keys(members).map(function (k) { return members[k]; });
    sorted.sort(function (a, b) {
      return rank(a) - rank(b)
        || fold(a.nickname).localeCompare(fold(b.nickname));
    });
    $("members-heading").textContent = t("members", { count: sorted.length });
    list.replaceChildren();
    sorted.forEach(function (member) {
      var li = element("li", "member role-" + member.role + (member.away ? " away" : ""));
      li.setAttribute("data-nickname", member.nickname);
      var button = element("button", "member-button");
      button.type = "button";
      var mark = member.role === "operator" ? "@" : member.role === "voice" ? "+" : "";
      if (mark) {
        var badge = element("span", "role", mark);
        badge.setAttribute("aria-hidden", "true");
        button.appendChild(badge);
      }
      button.appendChild(element("span", "nick " + colourOf(member.nickname), member.nickname));
      var about = [];
      if (member.role === "operator") { about.push(t("operator")); }
      if (member.role === "voice") { about.push(t("voice")); }
      if (member.away) { about.push(t("away")); }
      if (fold(member.nickname) === fold(nickname)) { about.push(t("you")); }
      if (about.length) { button.appendChild(element("span", "about", " (" + about.join(", ") + ")")); }
      if (member.away) { button.title = t("awayWith", { message: member.away }); }
      button.setAttribute("aria-label", t("writeTo", { nickname: member.nickname })
        + (about.length ? " (" + about.join(", ") + ")" : ""));
      if (fold(member.nickname) === fold(nickname)) {
        button.disabled = true;
      } else {
        button.addEventListener("click", function () {
          show(privateConversation(member.nickname).key);
          closePanels();
          $("message-input").focus();
        });
      }
      li.appendChild(button);
      list.appendChild(li);
    });
  }

  function applyModes(changes) {
    (Array.isArray(changes) ? changes : []).forEach(function (change) {
      if ((change.letter !== "o" && change.letter !== "v") || !change.argument) { return; }
      var member = members[fold(change.argument)];
      if (!member) { return; }
      if (change.letter === "o") {
        if (change.adding) { member.role = "operator"; }
        else if (member.role === "operator") { member.role = member.voiced ? "voice" : "member"; }
      } else {
        member.voiced = change.adding;
        if (change.adding && member.role === "member") { member.role = "voice"; }
        if (!change.adding && member.role === "voice") { member.role = "member"; }
      }
    });
  }

  // ---- rooms, tabs, heads --------------------------------------------

  function renderRooms() {
    var list = $("rooms-list");
    list.replaceChildren();
    if (!roomsListed.length) {
      list.appendChild(element("li", "empty", t("noRooms")));
      return;
    }
    roomsListed.forEach(function (entry) {
      var here = room !== null && fold(entry.room) === fold(room);
      // The room we are in is counted as its member list goes.
      var count = here ? Object.keys(members).length : entry.count;
      var li = element("li", "room-entry");
      var button = element("button", "room-button", t("roomEntry", { room: entry.room, count: count }));
      button.type = "button";
      if (here) { button.setAttribute("aria-current", "true"); }
      button.addEventListener("click", function () {
        sendLine("/join " + entry.room);
        closePanels();
      });
      li.appendChild(button);
      if (entry.topic) { li.appendChild(element("span", "room-topic", entry.topic)); }
      list.appendChild(li);
    });
  }

  function tabLabel(conv) {
    return conv.kind === "room" ? "#" + conv.name : conv.name;
  }

  function renderTabs() {
    var list = $("tabs");
    if (!list) { return; }
    list.replaceChildren();
    var keys = roomTab ? [roomTab].concat(order) : order.slice();
    keys.forEach(function (key) {
      var conv = conversations[key];
      if (!conv) { return; }
      var li = element("li", "tab " + conv.kind);
      var button = element("button", "tab-button", tabLabel(conv));
      button.type = "button";
      button.setAttribute("data-key", key);
      if (key === active) { button.setAttribute("aria-current", "true"); }
      if (conv.unread) {
        var badge = element("span", "unread", String(conv.unread));
        badge.setAttribute("aria-label", t("unread", { count: conv.unread }));
        button.appendChild(document.createTextNode(" "));
        button.appendChild(badge);
      }
      button.addEventListener("click", function () {
        show(key);
        closePanels();
        $("message-input").focus();
      });
      li.appendChild(button);
      if (conv.kind === "private") {
        var close = element("button", "tab-close", "×");
        close.type = "button";
        close.setAttribute("aria-label", t("closeConversation", { nickname: conv.name }));
        close.addEventListener("click", function () { closeConversation(key); });
        li.appendChild(close);
      }
      list.appendChild(li);
    });
  }

  function closeConversation(key) {
    order = order.filter(function (k) { return k !== key; });
    delete conversations[key];
    if (active === key) { show(roomTab); }
    renderTabs();
  }

  function renderConversationHead() {
    var conv = active && conversations[active];
    var title = $("conversation-title");
    var topicLine = $("topic");
    var input = $("message-input");
    if (!conv) {
      title.textContent = "";
      topicLine.textContent = room === "" ? t("inNoRoom") : "";
      input.setAttribute("aria-label", t("message"));
      return;
    }
    title.textContent = tabLabel(conv);
    if (conv.kind === "room") {
      topicLine.textContent = fold(conv.name) === fold(room || "")
        ? (topic ? t("topic", { topic: topic }) : t("noTopic")) : "";
    } else {
      topicLine.textContent = "";
    }
    input.setAttribute("aria-label", t("messageTo", { target: tabLabel(conv) }));
  }

  /** Show the conversation key in the log. */
  function show(key) {
    active = key && conversations[key] ? key : null;
    var box = $("log");
    if (active) {
      var conv = conversations[active];
      conv.unread = 0;
      box.replaceChildren(conv.list);
      box.scrollTop = box.scrollHeight;
    } else {
      box.replaceChildren();
    }
    renderTabs();
    renderConversationHead();
  }

  // ---- status and login ----------------------------------------------

  function setStatus(key, params) {
    status = { key: key, params: params || {} };
    showStatus();
  }

  function showStatus() {
    var line = $("status");
    line.textContent = t(status.key, status.params);
    line.setAttribute("data-state", status.key);
    $("reconnect").hidden = status.key !== "stopped" && status.key !== "waiting";
  }

  var loginMode = "nickname";   // or "password" (the server's) or "account"
  var loginAccount = "";

  function showLogin(mode, account, errorText) {
    loginMode = mode;
    loginAccount = account || "";
    $("login").hidden = false;
    $("chat").hidden = true;
    $("nickname-row").hidden = mode !== "nickname";
    $("password-row").hidden = mode === "nickname";
    $("login-password").value = "";
    if (mode === "nickname" && !$("login-nickname").value) { $("login-nickname").value = nickname; }
    $("login-error").textContent = errorText || "";
    showLoginLabels();
    var field = mode === "nickname" ? $("login-nickname") : $("login-password");
    field.focus();
  }

  function showLoginLabels() {
    $("password-label").textContent = loginMode === "account"
      ? t("accountPassword", { nickname: loginAccount }) : t("serverPassword");
    $("login-submit").textContent = loginMode === "nickname" ? t("join") : t("logIn");
  }

  function showChat() {
    var wasHidden = $("chat").hidden;
    $("login").hidden = true;
    $("chat").hidden = false;
    if (wasHidden) { $("message-input").focus(); }
  }

  function onLoginSubmit(event) {
    event.preventDefault();
    if (!conn || !conn.open) { $("login-error").textContent = t("notConnected"); return; }
    if (loginMode === "nickname") {
      var chosen = $("login-nickname").value.trim();
      if (!chosen) { return; }
      nickname = chosen;
      conn.nicknameRetries = Infinity;  // a person chose: no retrying
      sendNickname();
    } else {
      var secret = $("login-password").value;
      if (!secret) { return; }
      $("login-password").value = "";
      if (loginMode === "password") {
        serverPassword = secret;
      } else {
        accountPasswords[fold(loginAccount)] = secret;
        conn.accountTried = fold(loginAccount);
      }
      rawSend(secret);
    }
    $("login-error").textContent = "";
    $("login-notes").textContent = "";
  }

  // ---- the connection ------------------------------------------------

  function socketUrl() {
    return (window.location.protocol === "https:" ? "wss:" : "ws:")
      + "//" + window.location.host + "/chat";
  }

  function connect() {
    window.clearTimeout(timer);
    window.clearInterval(countdown);
    timer = countdown = null;
    setStatus("connecting");
    var ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch (e) {
      reconnectLater();
      return;
    }
    var here = conn = {
      ws: ws, open: false, registered: false, nicknameSent: false,
      nicknameRetries: 0, accountTried: null, langReplies: 0, lastCode: null,
      rejoinSent: false, historyAsked: false, reconnect: everRegistered
    };
    ws.addEventListener("open", function () {
      if (conn !== here) { return; }
      here.open = true;
      // Server text in the page's language from the first line on; the
      // reply to it is not shown.
      here.langReplies += 1;
      rawSend("/lang " + language);
    });
    ws.addEventListener("message", function (message) {
      if (conn !== here || typeof message.data !== "string") { return; }
      var parsed;
      try { parsed = JSON.parse(message.data); } catch (e) { return; }
      if (parsed && typeof parsed === "object") { receive(parsed); }
    });
    ws.addEventListener("close", function () {
      if (conn !== here) { return; }
      var wasRegistered = here.registered;
      conn = null;
      if (wasRegistered) { notice("connectionLost"); }
      if (stopped) { setStatus("stopped"); return; }
      reconnectLater();
    });
  }

  function reconnectLater() {
    if (welcomedAt !== null && Date.now() - welcomedAt >= STEADY_MS) { attempt = 0; }
    welcomedAt = null;
    var delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
    attempt += 1;
    var due = Date.now() + delay;
    var tick = function () {
      setStatus("waiting", { seconds: Math.max(1, Math.ceil((due - Date.now()) / 1000)) });
    };
    tick();
    countdown = window.setInterval(tick, 1000);
    timer = window.setTimeout(connect, delay);
  }

  function rawSend(line) {
    if (!conn || !conn.open) { return false; }
    conn.ws.send(line);
    return true;
  }

  function sendNickname() {
    conn.nicknameSent = true;
    rawSend(nickname);
  }

  /** Send a line the person typed or clicked, once registered. */
  function sendLine(line) {
    if (!conn || !conn.registered) {
      $("send-error").textContent = t("notConnected");
      return false;
    }
    return rawSend(line);
  }

  // ---- what the server sends -----------------------------------------

  function receive(msg) {
    switch (msg.type) {
      case "prompt": onPrompt(msg); break;
      case "error":
        conn.lastCode = typeof msg.code === "string" ? msg.code : null;
        onServerText("error", msg.text);
        break;
      case "info": onServerText("info", msg.text); break;
      case "room": onRoom(msg); break;
      case "rooms":
        roomsListed = Array.isArray(msg.rooms) ? msg.rooms : [];
        renderRooms();
        break;
      case "scrollback":
        if (typeof msg.room === "string" && msg.room) { addEvents(roomConversation(msg.room), msg.events); }
        break;
      case "history":
        if (msg.nickname) { addEvents(privateConversation(msg.nickname), msg.events); }
        else if (msg.room || room) { addEvents(roomConversation(msg.room || room), msg.events); }
        break;
      case "event": onEvent(msg); break;
      default: break;
    }
  }

  function onServerText(kind, text) {
    text = typeof text === "string" ? text : "";
    if (conn.langReplies > 0) { conn.langReplies -= 1; return; }
    if (!conn.registered) {
      if (kind === "error") { conn.lastError = text; $("login-error").textContent = text; }
      else { $("login-notes").textContent = text; }
      return;
    }
    addNote(currentConversation(), kind, text);
  }

  function onPrompt(msg) {
    if (msg["for"] === "password") {
      if (serverPassword !== null && !conn.serverPasswordSent) {
        conn.serverPasswordSent = true;
        rawSend(serverPassword);
      } else {
        serverPassword = null;
        showLogin("password");
      }
    } else if (msg["for"] === "account") {
      var account = typeof msg.nickname === "string" ? msg.nickname : nickname;
      var key = fold(account);
      if (accountPasswords.hasOwnProperty(key) && conn.accountTried !== key) {
        conn.accountTried = key;
        rawSend(accountPasswords[key]);
      } else {
        delete accountPasswords[key];
        showLogin("account", account, conn.lastError);
      }
    } else if (msg["for"] === "nickname") {
      onNicknamePrompt();
    }
  }

  function onNicknamePrompt() {
    if (!nickname) { showLogin("nickname"); return; }
    if (!conn.nicknameSent) { sendNickname(); return; }
    // Refused.  Right after a reconnect (or a reload) the server may still
    // hold the old connection's nickname: try again a few times before
    // asking; any other refusal (a malformed name) asks at once.
    var waits = conn.reconnect ? NICKNAME_RETRIES_S : NICKNAME_RETRIES_LOAD_S;
    if (conn.lastCode === "NicknameInUse" && conn.nicknameRetries < waits.length) {
      var seconds = waits[conn.nicknameRetries];
      conn.nicknameRetries += 1;
      setStatus("nicknameHeld", { nickname: nickname, seconds: seconds });
      var here = conn;
      window.setTimeout(function () {
        if (conn === here && !here.registered) { sendNickname(); setStatus("connecting"); }
      }, seconds * 1000);
      return;
    }
    showLogin("nickname", "", conn.lastError);
  }

  function onWelcome(ev) {
    conn.registered = true;
    welcomedAt = Date.now();
    if (typeof ev.nickname === "string" && ev.nickname) { nickname = ev.nickname; }
    remember(KEY_NICKNAME, nickname);
    setStatus("connected", { nickname: nickname });
    if (conn.reconnect) { notice("reconnected"); }
    everRegistered = true;
    showChat();
  }

  function onRoom(msg) {
    var name = typeof msg.room === "string" ? msg.room : "";
    var entered = name !== room || !conn.roomSeen;
    var rejoining = false;
    conn.roomSeen = true;
    if (conn.reconnect && !conn.rejoinSent && wantedRoom && fold(name) !== fold(wantedRoom)) {
      // Back, but the server put us elsewhere: go where we were.
      conn.rejoinSent = rejoining = true;
      rawSend("/join " + wantedRoom);
    }
    room = name;
    topic = typeof msg.topic === "string" ? msg.topic : "";
    members = {};
    (Array.isArray(msg.members) ? msg.members : []).forEach(function (m) {
      if (m && typeof m.nickname === "string") {
        setMember(m.nickname, {
          role: RANK.hasOwnProperty(m.role) ? m.role : "member",
          voiced: m.role === "voice", away: m.away || null, account: m.account || null
        });
      }
    });
    if (name) {
      var conv = roomConversation(name);
      roomTab = conv.key;
      if (!active || conversations[active].kind === "room") { show(conv.key); }
      if (conn.reconnect && !conn.historyAsked && !rejoining) {
        // Fill what was said while away: merged by id, so nothing twice.
        conn.historyAsked = true;
        rawSend("/history " + HISTORY_AFTER_RECONNECT);
        order.slice(0, 10).forEach(function (key) {
          rawSend("/history " + conversations[key].name + " 50");
        });
      }
      if (!rejoining) { wantedRoom = name; }
    } else {
      wantedRoom = "";
    }
    if (entered) { rawSend("/rooms"); }
    renderMembers();
    renderTabs();
    renderRooms();
    renderConversationHead();
  }

  function inRoom(name) {
    return typeof name === "string" && room && fold(name) === fold(room);
  }

  function onEvent(ev) {
    var who = senderOf(ev);
    var conv;
    switch (ev.kind) {
      case "Welcome": onWelcome(ev); return;
      case "Said":
      case "Acted":
      case "TopicChanged":
      case "ModeChanged":
      case "Kicked":
      case "Joined":
      case "Arrived":
      case "Parted":
      case "Departed":
      case "Crowd":
        if (typeof ev.room !== "string") { return; }
        conv = roomConversation(ev.room);
        break;
      case "Whispered":
        conv = privateConversation(ev.own ? ev.recipient : who);
        break;
      case "Left":
      case "Renamed":
        conv = room ? roomConversation(room) : currentConversation();
        break;
      case "Killed":
        stopped = true;
        conv = currentConversation();
        break;
      default:
        conv = currentConversation();
    }
    if (inRoom(ev.room)) {
      switch (ev.kind) {
        case "Joined":
        case "Arrived":
          setMember(who, { away: ev.away || null, account: ev.sender.account || null });
          break;
        case "Parted":
        case "Departed":
          dropMember(who);
          break;
        case "Kicked":
          dropMember(ev.nickname);
          if (fold(ev.nickname) === fold(nickname)) { room = ""; wantedRoom = ""; members = {}; }
          break;
        case "TopicChanged": topic = ev.topic || ""; break;
        case "ModeChanged": applyModes(ev.changes); break;
        case "Crowd":
          (ev.joined || []).forEach(function (n) { setMember(n, {}); });
          (ev.left || []).forEach(dropMember);
          break;
        default: break;
      }
    }
    switch (ev.kind) {
      case "Left":
        dropMember(who);
        break;
      case "Renamed":
        onRenamed(who, ev["new"]);
        break;
      case "AwayChanged":
        if (members[fold(who)]) { members[fold(who)].away = ev.message || null; }
        break;
      case "AccountChanged":
        if (members[fold(who)]) { members[fold(who)].account = ev.account || null; }
        break;
      default: break;
    }
    addEvent(conv, ev);
    renderRooms();
    if (ev.kind === "Left" || ev.kind === "Renamed") {
      var partner = conversations[conversationKey("private", ev.kind === "Renamed" ? ev["new"] : who)];
      if (partner && partner !== conv) { addEvent(partner, ev); }
    }
    renderMembers();
    renderConversationHead();
  }

  function onRenamed(old, now) {
    if (typeof now !== "string") { return; }
    var member = members[fold(old)];
    if (member) { dropMember(old); setMember(now, member); }
    if (fold(old) === fold(nickname)) {
      nickname = now;
      remember(KEY_NICKNAME, now);
      if (conn && conn.registered) { setStatus("connected", { nickname: now }); }
    }
    var oldKey = conversationKey("private", old);
    var conv = conversations[oldKey];
    if (conv && fold(old) !== fold(now)) {
      var newKey = conversationKey("private", now);
      if (!conversations[newKey]) {
        delete conversations[oldKey];
        conv.key = newKey;
        conversations[newKey] = conv;
        order = order.map(function (k) { return k === oldKey ? newKey : k; });
        if (active === oldKey) { active = newKey; }
      }
    }
    if (conv) { conv.name = now; }
    renderTabs();
  }

  // ---- typing --------------------------------------------------------

  function rememberPassword(line) {
    var words = line.trim().split(/\s+/);
    var command = words[0].toLowerCase();
    if (command === "/register" && words.length === 2) {
      accountPasswords[fold(nickname)] = words[1];
    } else if (command === "/identify" && words.length === 2) {
      accountPasswords[fold(nickname)] = words[1];
    } else if (command === "/identify" && words.length === 3) {
      accountPasswords[fold(words[1])] = words[2];
    } else if (command === "/password" && words.length === 3) {
      accountPasswords[fold(nickname)] = words[2];
    } else if (command === "/drop") {
      delete accountPasswords[fold(nickname)];
    }
  }

  function onSendSubmit(event) {
    event.preventDefault();
    var input = $("message-input");
    var typed = input.value;
    if (!typed.trim()) { return; }
    var conv = active && conversations[active];
    var line = typed;
    if (conv && conv.kind === "private" && typed.charAt(0) !== "/") {
      line = "/msg " + conv.name + " " + typed;
    } else if (conv && conv.kind === "private" && typed.slice(0, 2) === "//") {
      line = "/msg " + conv.name + " " + typed.slice(1);
    }
    var size = utf8Length(line);
    if (size > MAX_LINE_BYTES) {
      $("send-error").textContent = t("tooLong", { bytes: size });
      return;
    }
    if (!sendLine(line)) { return; }
    $("send-error").textContent = "";
    if (PASSWORD_COMMAND.test(typed)) {
      rememberPassword(typed);
    } else {
      sentLines.push(typed);
      if (sentLines.length > 50) { sentLines.shift(); }
    }
    if (/^\/quit\b/i.test(typed)) {
      stopped = true;
      notice("youLeft");
    }
    historyIndex = -1;
    input.value = "";
  }

  function onInputKey(event) {
    if (event.key !== "ArrowUp" && event.key !== "ArrowDown") { return; }
    if (!sentLines.length) { return; }
    var input = event.target;
    if (event.key === "ArrowUp") {
      historyIndex = historyIndex < 0 ? sentLines.length - 1 : Math.max(0, historyIndex - 1);
    } else if (historyIndex < 0) {
      return;
    } else {
      historyIndex += 1;
    }
    event.preventDefault();
    if (historyIndex >= sentLines.length) {
      historyIndex = -1;
      input.value = "";
    } else {
      input.value = sentLines[historyIndex];
    }
  }

  function onInput() {
    var error = $("send-error");
    if (!error.textContent) { return; }
    if (utf8Length($("message-input").value) <= MAX_LINE_BYTES) { error.textContent = ""; }
  }

  // ---- panels on a narrow screen -------------------------------------

  function toggle(buttonId, panelId) {
    var button = $(buttonId);
    var open = button.getAttribute("aria-expanded") !== "true";
    closePanels();
    button.setAttribute("aria-expanded", open ? "true" : "false");
    $(panelId).classList.toggle("open", open);
    if (open) {
      var first = $(panelId).querySelector("button");
      if (first) { first.focus(); }
    }
  }

  function closePanels() {
    [["rooms-toggle", "sidebar"], ["members-toggle", "members"]].forEach(function (pair) {
      $(pair[0]).setAttribute("aria-expanded", "false");
      $(pair[1]).classList.remove("open");
    });
  }

  // ---- start ---------------------------------------------------------

  function start() {
    $("login-form").addEventListener("submit", onLoginSubmit);
    $("send-form").addEventListener("submit", onSendSubmit);
    $("message-input").addEventListener("keydown", onInputKey);
    $("message-input").addEventListener("input", onInput);
    $("rooms-refresh").addEventListener("click", function () { sendLine("/rooms"); });
    $("rooms-toggle").addEventListener("click", function () { toggle("rooms-toggle", "sidebar"); });
    $("members-toggle").addEventListener("click", function () { toggle("members-toggle", "members"); });
    $("reconnect").addEventListener("click", function () {
      stopped = false;
      attempt = 0;
      if (!conn) { connect(); }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { closePanels(); }
    });
    $("language").addEventListener("change", function (event) {
      var chosen = event.target.value;
      if (!STRINGS.hasOwnProperty(chosen) || chosen === language) { return; }
      language = chosen;
      remember(KEY_LANGUAGE, chosen);
      applyLanguage();
      rawSend("/lang " + chosen);
    });
    applyLanguage();
    connect();
  }

  start();
}());
