-- wrk script: replay a list of requests, one per line "METHOD<TAB>PATH<TAB>COOKIE<TAB>BODY",
-- round-robin across the list. The file name comes after "--" on wrk's command line,
-- optionally followed by a pause in milliseconds each connection waits before each
-- request (the soak test's way of sending a fixed fraction of the capacity).
-- Errors (4xx, 5xx) and redirects to the login page are counted and printed by done()
-- as "Unexpected status: N", so a benchmark of logged-out redirects cannot pass for
-- one of real pages.
--
-- Every request carries the User-Agent the harness logged in with: Flask-Login's
-- "strong" session protection drops a session whose address or agent changed.
local USER_AGENT = "shuren-bench/1.0"
local requests = {}
local position = 0
local pause = nil
-- Global, not local: done() reads it from each thread with thread:get().
unexpected = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "r"))
  if args[2] then
    pause = tonumber(args[2])
  end
  for line in file:lines() do
    local method, path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
    local headers = { ["Cookie"] = cookie, ["User-Agent"] = USER_AGENT }
    if method == "POST" then
      headers["Content-Type"] = "application/x-www-form-urlencoded"
      headers["X-Requested-With"] = "XMLHttpRequest"
    else
      body = nil
    end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
  file:close()
  -- Threads start at different offsets so they do not send the same request.
  position = math.random(#requests)
end

function request()
  position = position % #requests + 1
  return requests[position]
end

function response(status, headers, body)
  local location = headers["Location"] or headers["location"] or ""
  if status >= 400 or (status >= 300 and location:find("/login", 1, true)) then
    unexpected = unexpected + 1
  end
end

function delay()
  return pause or 0
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("unexpected")
  end
  io.write(string.format("Unexpected status: %d\n", total))
end
