import { startNode, pair, collect } from '../helpers/nodes';
test('items', async () => {
  const a = await startNode({ settings: { mtu: 65536 } }); const b = await startNode({ settings: { mtu: 65536 } });
  await pair(a, b);
  const got = collect(b);
  await Promise.all(Array.from({ length: 5000 }, () => a.send('b', '')));
  await new Promise((r) => setTimeout(r, 500));
  console.log('sent 5000 (all resolved), received', got.length, 'drops', JSON.stringify((b as any).status().counters.drops));
  got.length = 0;
  await Promise.all(Array.from({ length: 3000 }, () => a.send('b', 'x')));
  await new Promise((r) => setTimeout(r, 500));
  console.log('sent 3000, received', got.length);
  await a.close(); await b.close();
}, 30000);
