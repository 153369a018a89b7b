// Checks the size of chosen files before a form is sent, so that a file over
// the limit is named next to its field and the typed fields are not lost to
// the server's 413 page. A file input takes part when it has the attributes
// that size_limit_data in lms/uploads.py returns:
//   data-max-bytes          JSON of extension -> byte limit, "*" for the rest
//   data-max-request-bytes  the limit of one whole request (all files)
//   data-too-large          message with {name}, {size} and {limit}
//   data-request-too-large  message with {size} and {limit}
// The server checks every upload again, so this only saves a round trip.
(function () {
  "use strict";
  var MB = 1024 * 1024;

  function megabytes(bytes) {
    // One decimal place, rounded down for a limit and up for a file, so a
    // file is never shown as equal to a limit it exceeds.
    return String(Math.floor((bytes * 10) / MB) / 10);
  }

  function fileMegabytes(bytes) {
    return String(Math.ceil((bytes * 10) / MB) / 10);
  }

  function fill(template, values) {
    return template.replace(/\{(name|size|limit)\}/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : match;
    });
  }

  function limitsOf(input) {
    try {
      return JSON.parse(input.getAttribute("data-max-bytes")) || {};
    } catch (error) {
      return {};
    }
  }

  function limitFor(limits, fileName) {
    var dot = fileName.lastIndexOf(".");
    var extension = dot >= 0 ? fileName.slice(dot + 1).toLowerCase() : "";
    if (Object.prototype.hasOwnProperty.call(limits, extension)) {
      return limits[extension];
    }
    return limits["*"];
  }

  function messageElement(input) {
    var id = (input.id || input.name) + "-size-error";
    var element = document.getElementById(id);
    if (!element) {
      element = document.createElement("p");
      element.id = id;
      element.className = "field-error";
      element.setAttribute("role", "alert");
      element.hidden = true;
      input.insertAdjacentElement("afterend", element);
    }
    return element;
  }

  function show(input, message) {
    var element = messageElement(input);
    var describedBy = (input.getAttribute("aria-describedby") || "").split(" ");
    element.textContent = message;
    element.hidden = !message;
    if (message) {
      input.setAttribute("aria-invalid", "true");
      if (describedBy.indexOf(element.id) < 0) {
        describedBy.push(element.id);
      }
    } else {
      input.removeAttribute("aria-invalid");
      describedBy = describedBy.filter(function (value) {
        return value !== element.id;
      });
    }
    input.setAttribute("aria-describedby", describedBy.join(" ").trim());
  }

  // Returns the message for the first file over its limit, or "".
  function fileProblem(input) {
    var limits = limitsOf(input);
    var template = input.getAttribute("data-too-large") || "";
    var files = input.files || [];
    for (var index = 0; index < files.length; index += 1) {
      var limit = limitFor(limits, files[index].name);
      if (typeof limit === "number" && files[index].size > limit) {
        return fill(template, {
          name: files[index].name,
          size: fileMegabytes(files[index].size),
          limit: megabytes(limit)
        });
      }
    }
    return "";
  }

  function checkInput(input) {
    var message = fileProblem(input);
    show(input, message);
    return !message;
  }

  // Checks every file input of the form, then the total of all files.
  function checkForm(form) {
    var inputs = form.querySelectorAll("input[type=file][data-max-bytes]");
    var firstInvalid = null;
    var total = 0;
    Array.prototype.forEach.call(inputs, function (input) {
      if (!checkInput(input) && firstInvalid === null) {
        firstInvalid = input;
      }
      Array.prototype.forEach.call(input.files || [], function (file) {
        total += file.size;
      });
    });
    if (firstInvalid === null && inputs.length > 0) {
      var last = inputs[inputs.length - 1];
      var requestLimit = parseInt(last.getAttribute("data-max-request-bytes"), 10);
      if (requestLimit && total > requestLimit) {
        show(last, fill(last.getAttribute("data-request-too-large") || "", {
          size: fileMegabytes(total),
          limit: megabytes(requestLimit)
        }));
        firstInvalid = last;
      }
    }
    return firstInvalid;
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches("input[type=file][data-max-bytes]")) {
      checkInput(input);
    }
  });

  document.addEventListener("submit", function (event) {
    var invalid = checkForm(event.target);
    if (invalid !== null) {
      event.preventDefault();
      invalid.focus();
    }
  }, true);
})();
