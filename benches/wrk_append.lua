-- wrk script: POST /v1/events, a new event id in every request (so each is a real append).
-- Arguments after `--`: TOKEN EVENT_TEMPLATE_FILE PREFIX; the template holds __ID__ where the id goes.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
function init(args)
  token = args[1]
  local file = assert(io.open(args[2], "r"))
  template = file:read("*a")
  file:close()
  prefix = args[3] or "wrk"
  counter = 0
end
function request()
  counter = counter + 1
  local id = prefix .. "-" .. tid .. "-" .. counter
  local body = string.gsub(template, "__ID__", id)
  return wrk.format("POST", "/v1/events",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
