// Keeps what a logged-in user types in the text boxes of a form in this
// browser's localStorage until the form is sent, so that a login that ended
// meanwhile, a closed tab or a lost connection loses no text. Only textareas
// are kept, never password or other fields, and only in forms that post.
// A form opts out with data-no-draft.
//
// A draft is stored under shuren:draft:<user id>:<form action>#<n>, where n
// counts the forms with the same action on the page. When the form is next
// shown with other text, the draft is put back with a notice and a button
// that discards it. Sending the form marks its draft in sessionStorage.
// The next page deletes the draft only if the server took the form, which
// shows as a redirect to a page without an error message, or as a page
// without that form. Logging out deletes the user's drafts, and a page of
// another user deletes them too, so no user sees another's text.
(function () {
  "use strict";
  var PREFIX = "shuren:draft:";
  var PENDING = "shuren:draft-pending";
  var MAX_AGE_MS = 7 * 24 * 3600 * 1000;
  var body = document.body;
  var userId = body.getAttribute("data-user-id");
  var storage;
  try {
    storage = window.localStorage;
    storage.getItem(PREFIX);
  } catch (error) {
    return;
  }

  function read(key) {
    try {
      return JSON.parse(storage.getItem(key));
    } catch (error) {
      return null;
    }
  }

  function keys() {
    var found = [];
    for (var index = 0; index < storage.length; index += 1) {
      var key = storage.key(index);
      if (key && key.indexOf(PREFIX) === 0) {
        found.push(key);
      }
    }
    return found;
  }

  function removeUserData(id) {
    keys().forEach(function (key) {
      if (key.indexOf(PREFIX + id + ":") === 0) {
        storage.removeItem(key);
      }
    });
    storage.removeItem("shuren:login-ends:" + id);
  }

  // Cheap fingerprint of the text the server put in the boxes.
  function fingerprint(values) {
    var textValue = JSON.stringify(values);
    var hash = 5381;
    for (var index = 0; index < textValue.length; index += 1) {
      hash = ((hash * 33) ^ textValue.charCodeAt(index)) >>> 0;
    }
    return String(hash);
  }

  function boxesOf(form) {
    return Array.prototype.filter.call(form.querySelectorAll("textarea[name]"), function (box) {
      return !box.readOnly && !box.disabled;
    });
  }

  function boxId(boxes, box) {
    var same = boxes.filter(function (other) { return other.name === box.name; });
    return box.name + "#" + same.indexOf(box);
  }

  function eligible(form) {
    return (form.getAttribute("method") || "").toLowerCase() === "post" &&
      !form.hasAttribute("data-no-draft") && !form.hasAttribute("data-logout") &&
      boxesOf(form).length > 0;
  }

  function actionOf(form) {
    var url = new URL(form.action, window.location.href);
    return url.pathname + url.search;
  }

  // Storage keys of the eligible forms of the page, in page order.
  function draftForms() {
    var counts = {};
    var result = [];
    Array.prototype.forEach.call(document.forms, function (form) {
      if (!eligible(form)) {
        return;
      }
      var action = actionOf(form);
      counts[action] = (counts[action] || 0) + 1;
      result.push({ form: form, key: PREFIX + userId + ":" + action + "#" + (counts[action] - 1) });
    });
    return result;
  }

  function valuesOf(form) {
    var boxes = boxesOf(form);
    var values = {};
    boxes.forEach(function (box) {
      values[boxId(boxes, box)] = box.value;
    });
    return values;
  }

  function same(left, right) {
    return JSON.stringify(left) === JSON.stringify(right);
  }

  function save(entry) {
    var values = valuesOf(entry.form);
    if (same(values, entry.original)) {
      storage.removeItem(entry.key);
      return;
    }
    var draft = JSON.stringify({ at: Date.now(), base: entry.base, fields: values });
    try {
      storage.setItem(entry.key, draft);
    } catch (error) {
      // Full storage: make room by deleting the oldest drafts, then try once more.
      keys().map(function (key) {
        return { key: key, at: (read(key) || {}).at || 0 };
      }).sort(function (a, b) { return a.at - b.at; }).slice(0, 5).forEach(function (old) {
        if (old.key !== entry.key) {
          storage.removeItem(old.key);
        }
      });
      try {
        storage.setItem(entry.key, draft);
      } catch (ignored) {
        // The text stays on the page only.
      }
    }
  }

  // Tells the page's own scripts (the quiz autosave) that the text changed.
  // Restoring runs before those scripts listen, so it waits for them.
  function notify(boxes, later) {
    function send() {
      boxes.forEach(function (box) {
        box.dispatchEvent(new Event("input", { bubbles: true }));
      });
    }
    if (later && document.readyState !== "complete") {
      document.addEventListener("DOMContentLoaded", send);
    } else {
      send();
    }
  }

  function restore(entry) {
    var draft = read(entry.key);
    if (!draft || !draft.fields) {
      return;
    }
    var boxes = boxesOf(entry.form);
    var changed = [];
    boxes.forEach(function (box) {
      var id = boxId(boxes, box);
      if (Object.prototype.hasOwnProperty.call(draft.fields, id) && draft.fields[id] !== box.value) {
        box.value = draft.fields[id];
        changed.push(box);
      }
    });
    if (!changed.length) {
      return;
    }
    var notice = document.createElement("div");
    notice.className = "flash flash-warning draft-notice";
    notice.setAttribute("role", "status");
    var message = document.createElement("span");
    message.textContent = draft.base === entry.base ?
      body.getAttribute("data-draft-restored-text") :
      body.getAttribute("data-draft-changed-text");
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "link";
    discard.textContent = body.getAttribute("data-draft-discard-text");
    discard.addEventListener("click", function () {
      boxes.forEach(function (box) {
        box.value = entry.original[boxId(boxes, box)];
      });
      storage.removeItem(entry.key);
      notice.remove();
      notify(changed);
      changed[0].focus();
    });
    notice.appendChild(message);
    notice.appendChild(document.createTextNode(" "));
    notice.appendChild(discard);
    entry.form.insertBefore(notice, entry.form.firstChild);
    notify(changed, true);
  }

  // Decides what became of the forms sent from the previous page.
  function settlePending() {
    var pending;
    try {
      pending = JSON.parse(window.sessionStorage.getItem(PENDING));
      window.sessionStorage.removeItem(PENDING);
    } catch (error) {
      return;
    }
    if (!pending || !pending.keys) {
      return;
    }
    var navigation = window.performance && performance.getEntriesByType ?
      performance.getEntriesByType("navigation")[0] : null;
    var redirected = Boolean(navigation && navigation.redirectCount > 0);
    var refused = document.querySelector(".flash-error, [data-keep-drafts]") !== null;
    var shownAgain = userId !== null && draftForms().some(function (entry) {
      return pending.keys.indexOf(entry.key) !== -1;
    });
    if (refused || (!redirected && shownAgain)) {
      return;
    }
    pending.keys.forEach(function (key) {
      storage.removeItem(key);
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented) {
      return;
    }
    if (form.hasAttribute("data-logout") && userId !== null) {
      // Nothing typed on this page is kept past the logout either.
      entries = [];
      removeUserData(userId);
      return;
    }
    var entry = entries.filter(function (candidate) { return candidate.form === form; })[0];
    if (!entry) {
      return;
    }
    save(entry);
    try {
      window.sessionStorage.setItem(PENDING, JSON.stringify({ keys: [entry.key], at: Date.now() }));
    } catch (error) {
      // Without sessionStorage the draft stays until it is discarded.
    }
  });

  settlePending();
  var entries = [];
  if (userId === null) {
    return;
  }
  // Drafts of another user, or too old, are deleted unseen.
  keys().forEach(function (key) {
    var draft = read(key);
    if (key.indexOf(PREFIX + userId + ":") !== 0 || !draft || Date.now() - draft.at > MAX_AGE_MS) {
      storage.removeItem(key);
    }
  });
  entries = draftForms();
  entries.forEach(function (entry) {
    entry.original = valuesOf(entry.form);
    entry.base = fingerprint(entry.original);
    restore(entry);
    var timer = null;
    entry.form.addEventListener("input", function (event) {
      if (event.target.tagName !== "TEXTAREA" || !event.isTrusted) {
        return;
      }
      if (timer !== null) {
        window.clearTimeout(timer);
      }
      timer = window.setTimeout(function () {
        timer = null;
        save(entry);
      }, 300);
    });
  });
  window.addEventListener("pagehide", function () {
    entries.forEach(save);
  });
})();
