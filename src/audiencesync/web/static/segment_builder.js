// The rule builder of Add / Edit segment: groups (all / any, optionally negated),
// conditions (field, operator, value) and "has a row in a related table" tests.
// It writes the rules JSON the API takes (docs/segments.md) into the hidden
// "rules" field and tells the form ("rules-changed"); without JavaScript the
// page offers the SQL condition only. No dependency, no build step.
(function () {
  "use strict";
  var holder = document.getElementById("builder");
  var hidden = document.getElementById("rules");
  var schemaNode = document.getElementById("builder-schema");
  if (!holder || !hidden || !schemaNode) { return; }
  var schema = JSON.parse(schemaNode.textContent);
  var words = JSON.parse(document.getElementById("builder-words").textContent);
  var form = document.getElementById("segment-form");
  var serial = 0;
  var focusAfter = null;

  function uid() { serial += 1; return "b" + serial; }
  function opInfo(op) {
    return schema.operators.filter(function (o) { return o.op === op; })[0];
  }
  function columnsOf(table) {
    if (!table) { return schema.columns; }
    var found = schema.tables.filter(function (t) { return t.name === table; })[0];
    return found ? found.columns : [];
  }
  function kindOf(columns, name) {
    var found = columns.filter(function (c) { return c.name === name; })[0];
    return found ? found.kind : "text";
  }
  function opsFor(kind) {
    return schema.operators.filter(function (o) { return o.kinds.indexOf(kind) >= 0; });
  }

  // --- the model: read from rules JSON -------------------------------------------
  function newCondition(columns) {
    var field = columns.length ? columns[0].name : "";
    var ops = opsFor(kindOf(columns, field));
    return { type: "condition", id: uid(), field: field, op: ops.length ? ops[0].op : "=", value: "", value2: "" };
  }
  function newGroup(mode) { return { type: "group", id: uid(), mode: mode || "all", negate: false, items: [] }; }
  function newExists() {
    var table = schema.tables.length ? schema.tables[0].name : "";
    return { type: "exists", id: uid(), table: table, group: newGroup("all") };
  }
  function text(value) {
    if (value === null || value === undefined) { return ""; }
    if (typeof value === "object" && value.decimal !== undefined) { return String(value.decimal); }
    return String(value);
  }
  function fromJson(data) {
    if (data && typeof data === "object" && !Array.isArray(data)) {
      if ("field" in data || "op" in data) {
        var node = { type: "condition", id: uid(), field: data.field || "", op: data.op || "=", value: "", value2: "" };
        if (Array.isArray(data.value)) {
          if (data.op === "between") { node.value = text(data.value[0]); node.value2 = text(data.value[1]); }
          else { node.value = data.value.map(text).join(", "); }
        } else { node.value = text(data.value); }
        return node;
      }
      if (Array.isArray(data.all) || Array.isArray(data.any)) {
        var mode = Array.isArray(data.all) ? "all" : "any";
        var group = newGroup(mode);
        group.items = data[mode].map(fromJson);
        return group;
      }
      if ("not" in data) {
        var inner = fromJson(data.not);
        if (inner.type === "group" && !inner.negate) { inner.negate = true; return inner; }
        var wrap = newGroup("all");
        wrap.negate = true;
        wrap.items = [inner];
        return wrap;
      }
      if (data.exists && typeof data.exists === "object") {
        var test = { type: "exists", id: uid(), table: data.exists.table || "", group: newGroup("all") };
        var m = Array.isArray(data.exists.any) ? "any" : "all";
        if (Array.isArray(data.exists[m])) { test.group.mode = m; test.group.items = data.exists[m].map(fromJson); }
        return test;
      }
    }
    return newGroup("all");
  }
  function load() {
    var raw = hidden.value.trim();
    if (!raw) { return newGroup("all"); }
    try {
      var root = fromJson(JSON.parse(raw));
      if (root.type !== "group") { var group = newGroup("all"); group.items = [root]; return group; }
      return root;
    } catch (error) {
      return newGroup("all");
    }
  }

  // --- the model: written as rules JSON ------------------------------------------
  var NUMERIC = /^-?\d+(\.\d+)?$/;
  function typed(raw, kind) {
    var value = raw.trim();
    if ((kind === "integer" || kind === "number") && NUMERIC.test(value)) { return Number(value); }
    if (kind === "boolean" && (value === "true" || value === "false")) { return value === "true"; }
    return value;
  }
  function conditionJson(node, columns) {
    var out = { field: node.field, op: node.op };
    var info = opInfo(node.op);
    var shape = info ? info.shape : "scalar";
    var kind = kindOf(columns, node.field);
    if (shape === "none") { return out; }
    if (shape === "pair") { out.value = [typed(node.value, kind), typed(node.value2, kind)]; }
    else if (shape === "list") {
      out.value = node.value.split(",").map(function (part) { return part.trim(); })
        .filter(function (part) { return part !== ""; })
        .map(function (part) { return typed(part, kind); });
    } else if (shape === "days") { out.value = NUMERIC.test(node.value.trim()) ? Number(node.value.trim()) : node.value; }
    else { out.value = typed(node.value, kind); }
    return out;
  }
  function toJson(node, columns) {
    if (node.type === "condition") { return conditionJson(node, columns); }
    if (node.type === "exists") {
      var test = { table: node.table };
      if (node.group.items.length) {
        var inner = columnsOf(node.table);
        test[node.group.mode] = node.group.items.map(function (item) { return toJson(item, inner); });
      }
      return { exists: test };
    }
    var group = {};
    group[node.mode] = node.items.map(function (item) { return toJson(item, columns); });
    return node.negate ? { not: group } : group;
  }

  // --- the view ----------------------------------------------------------------
  function element(tag, attributes, children) {
    var made = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") { made.textContent = attributes[name]; }
      else { made.setAttribute(name, attributes[name]); }
    });
    (children || []).forEach(function (child) { if (child) { made.appendChild(child); } });
    return made;
  }
  function labelled(labelText, control) {
    var id = control.id || uid();
    control.id = id;
    return element("span", { "class": "builder-control" }, [
      element("label", { "for": id, text: labelText }), control
    ]);
  }
  function select(options, chosen, focusKey) {
    var made = element("select", { "data-focus": focusKey });
    options.forEach(function (option) {
      var item = element("option", { value: option[0], text: option[1] });
      if (option[0] === chosen) { item.selected = true; }
      made.appendChild(item);
    });
    return made;
  }
  function button(label, focusKey, action) {
    var made = element("button", { type: "button", "data-focus": focusKey, text: label });
    made.addEventListener("click", action);
    return made;
  }

  function valueControls(node, columns) {
    var info = opInfo(node.op);
    var shape = info ? info.shape : "scalar";
    var kind = kindOf(columns, node.field);
    if (shape === "none") { return []; }
    function input(key, labelText, type) {
      var made = element("input", { type: type, "data-focus": node.id + "-" + key, value: node[key] });
      if (type === "number") { made.setAttribute("step", "any"); }
      made.addEventListener("input", function () { node[key] = made.value; changed(); });
      return labelled(labelText, made);
    }
    if (shape === "scalar" && kind === "boolean") {
      var choice = select([["true", words["true"]], ["false", words["false"]]], node.value || "true", node.id + "-value");
      if (!node.value) { node.value = "true"; }
      choice.addEventListener("change", function () { node.value = choice.value; changed(); });
      return [labelled(words.value, choice)];
    }
    if (shape === "pair") { return [input("value", words.from, "text"), input("value2", words.to, "text")]; }
    if (shape === "days") { return [input("value", words.value, "number")]; }
    if (shape === "day") { return [input("value", words.value, "date")]; }
    if (shape === "list") {
      var list = input("value", words.value, "text");
      list.appendChild(element("span", { "class": "hint", text: words.list_hint }));
      return [list];
    }
    var numeric = kind === "integer" || kind === "number";
    return [input("value", words.value, numeric ? "number" : (kind === "date" ? "date" : "text"))];
  }

  function conditionView(node, parent, columns) {
    var fields = select(columns.map(function (c) { return [c.name, c.name]; }), node.field, node.id + "-field");
    if (columns.every(function (c) { return c.name !== node.field; })) {
      fields.insertBefore(element("option", { value: node.field, text: node.field, selected: "selected" }), fields.firstChild);
    }
    fields.addEventListener("change", function () {
      node.field = fields.value;
      var allowed = opsFor(kindOf(columns, node.field)).map(function (o) { return o.op; });
      if (allowed.indexOf(node.op) < 0) { node.op = allowed.length ? allowed[0] : node.op; }
      redraw(node.id + "-field");
    });
    var kind = kindOf(columns, node.field);
    var offered = opsFor(kind);
    if (!opInfo(node.op) || offered.every(function (o) { return o.op !== node.op; })) {
      offered = offered.concat(opInfo(node.op) ? [opInfo(node.op)] : [{ op: node.op }]);
    }
    var ops = select(offered.map(function (o) { return [o.op, words.ops[o.op] || o.op]; }), node.op, node.id + "-op");
    ops.addEventListener("change", function () { node.op = ops.value; redraw(node.id + "-op"); });
    var row = element("div", { "class": "builder-condition", role: "group", "aria-label": words.field }, [
      labelled(words.field, fields), labelled(words.operator, ops)
    ].concat(valueControls(node, columns)).concat([
      button(words.remove_condition, node.id + "-remove", function () { removeFrom(parent, node); })
    ]));
    return row;
  }

  function existsView(node, parent) {
    var tables = select(schema.tables.map(function (t) { return [t.name, t.name]; }), node.table, node.id + "-table");
    tables.addEventListener("change", function () { node.table = tables.value; node.group.items = []; redraw(node.id + "-table"); });
    var box = element("div", { "class": "builder-exists", role: "group", "aria-label": words.has_row }, [
      element("p", { "class": "builder-title", text: words.has_row }),
      labelled(words.table, tables),
      element("p", { "class": "hint", text: words.exists_hint }),
      groupView(node.group, null, columnsOf(node.table), true),
      button(words.remove, node.id + "-remove", function () { removeFrom(parent, node); })
    ]);
    return box;
  }

  function groupView(group, parent, columns, inExists) {
    var mode = select([["all", words.all], ["any", words.any]], group.mode, group.id + "-mode");
    mode.addEventListener("change", function () { group.mode = mode.value; changed(); });
    var head = element("div", { "class": "builder-head" }, [labelled(words.match, mode)]);
    if (!inExists) {
      var negate = element("input", { type: "checkbox", "data-focus": group.id + "-negate" });
      negate.checked = group.negate;
      negate.addEventListener("change", function () { group.negate = negate.checked; changed(); });
      var negateId = uid();
      negate.id = negateId;
      head.appendChild(element("span", { "class": "builder-control check" }, [
        negate, element("label", { "for": negateId, text: words.negate })
      ]));
    }
    var list = element("ul", { "class": "builder-items" });
    group.items.forEach(function (item) {
      var view = item.type === "condition" ? conditionView(item, group, columns)
        : item.type === "exists" ? existsView(item, group)
        : groupView(item, group, columns, inExists);
      list.appendChild(element("li", {}, [view]));
    });
    var tools = element("div", { "class": "builder-tools" }, [
      button(words.add_condition, group.id + "-add", function () {
        var made = newCondition(columns);
        group.items.push(made);
        redraw(made.id + "-field");
      }),
      button(words.add_group, group.id + "-add-group", function () {
        var made = newGroup(group.mode === "all" ? "any" : "all");
        made.items.push(newCondition(columns));
        group.items.push(made);
        redraw(made.id + "-mode");
      }),
      (!inExists && schema.tables.length) ? button(words.add_exists, group.id + "-add-exists", function () {
        var made = newExists();
        group.items.push(made);
        redraw(made.id + "-table");
      }) : null,
      parent ? button(words.remove_group, group.id + "-remove", function () { removeFrom(parent, group); }) : null
    ]);
    return element("div", { "class": parent ? "builder-group nested" : "builder-group", role: "group", "aria-label": words.group }, [head, list, tools]);
  }

  function removeFrom(parent, node) {
    var at = parent.items.indexOf(node);
    parent.items.splice(at, 1);
    redraw(parent.id + "-add");
  }

  var root = load();

  function changed() {
    hidden.value = root.items.length ? JSON.stringify(toJson(root, schema.columns)) : "";
    form.dispatchEvent(new CustomEvent("rules-changed"));
  }
  function redraw(focusKey) {
    focusAfter = focusKey || null;
    holder.textContent = "";
    holder.appendChild(groupView(root, null, schema.columns, false));
    if (!root.items.length) { holder.appendChild(element("p", { "class": "hint", text: words.empty })); }
    if (focusAfter) {
      var target = holder.querySelector('[data-focus="' + focusAfter + '"]');
      if (target) { target.focus(); }
    }
    changed();
  }

  holder.hidden = false;
  var wasEmpty = hidden.value.trim() === "";
  redraw(null);
  if (wasEmpty) { hidden.value = ""; }
}());
