-- wrk script: replay a list of requests, one per line "METHOD<TAB>PATH<TAB>COOKIE<TAB>BODY",
-- round-robin across the list. The file name comes after "--" on wrk's command line.
local requests = {}
local position = 0

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local method, path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
    local headers = { ["Cookie"] = cookie }
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
