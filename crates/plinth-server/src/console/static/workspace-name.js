// Previews a workspace's DNS name, {org}-{handle}.{base domain}, while its handle is
// typed. The pages work without it: the server shows the name once the form is sent.
"use strict";
(function () {
  // The server's rule (DESIGN.md §1), after ASCII lowercasing as the server does.
  var valid = /^[a-z0-9]{1,23}$/;
  var outputs = document.querySelectorAll("output[data-dns-preview]");
  Array.prototype.forEach.call(outputs, function (output) {
    var input = document.getElementById(output.getAttribute("data-dns-preview"));
    if (!input) {
      return;
    }
    var prefix = output.getAttribute("data-prefix") || "";
    var suffix = output.getAttribute("data-suffix") || "";
    var neutral = Array.prototype.map.call(output.childNodes, function (node) {
      return node.cloneNode(true);
    });
    var hint = document.createElement("span");
    hint.className = "field-error";
    hint.textContent = " (not a valid handle yet)";
    function update() {
      var handle = input.value.replace(/[A-Z]/g, function (c) {
        return c.toLowerCase();
      });
      if (valid.test(handle)) {
        output.textContent = prefix + handle + suffix;
      } else {
        output.replaceChildren.apply(output, neutral.map(function (node) {
          return node.cloneNode(true);
        }));
        if (handle !== "") {
          output.appendChild(hint);
        }
      }
    }
    input.addEventListener("input", update);
    update();
  });
})();
