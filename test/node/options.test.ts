/** createNode and reload check settings against the one schema (src/config): nothing starts or changes on a bad value. */
import { SimWorld } from '../sim/harness';

describe('node options', () => {
  test('createNode refuses invalid settings before binding anything', async () => {
    const w = new SimWorld(1);
    const bogus = { maxMessageBytes: -5, padding: 'bogus' } as unknown as Record<string, never>;
    await expect(w.node('127.0.0.2', { settings: bogus })).rejects.toMatchObject({ name: 'BadInputError', code: 'ERR_BAD_CONFIG' });
    await expect(w.node('127.0.0.2', { settings: bogus })).rejects.toThrow(/maxMessageBytes|padding/);
    expect(w.net.host('127.0.0.2').boundPorts).toBe(0);
    expect(w.scheduler.pendingTimers).toBe(0);
  });

  test('reload with an invalid value is refused as a whole', async () => {
    const w = new SimWorld(2);
    const a = await w.node('127.0.0.2');
    await expect(a.reload({ keepaliveMs: 5_000, padding: 'bogus' } as unknown as Record<string, never>)).rejects.toMatchObject({ code: 'ERR_BAD_CONFIG' });
    await expect(a.reload({ keepaliveMs: 5_000 })).resolves.toBeNull(); // no home: no peer store to apply
    await w.closeAll();
  });
});
