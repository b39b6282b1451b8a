-- bench_edge_product.lua — wrk script for vitrine-bench-edge: GET /api/v1/products/{id}, cycling
-- through the product ids listed one per line in the file given after "--" on wrk's command line
-- (vitrine-bench-edge writes the active ids of the demo catalog there). Each wrk thread starts
-- at a different place in the list.
local ids = {}
local next_index = 1

function init(args)
    local path = args[1]
    if path == nil then
        error("usage: wrk -s bench_edge_product.lua URL -- IDS_FILE")
    end
    for line in io.lines(path) do
        if #line > 0 then
            ids[#ids + 1] = line
        end
    end
    if #ids == 0 then
        error("no product ids in " .. path)
    end
    next_index = (math.random(#ids) - 1) % #ids + 1
end

function request()
    local id = ids[next_index]
    next_index = next_index % #ids + 1
    return wrk.format("GET", "/api/v1/products/" .. id)
end
