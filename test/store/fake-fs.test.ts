import { FakeFs, SimulatedCrash } from '../../src/store/fake-fs';

function withFile(): { f: FakeFs; fd: number } {
  const f = new FakeFs();
  f.mkdir('/d', 0o700);
  f.put('/d/a', 'base');
  const fd = f.open('/d/a', 'a');
  f.write(fd, Buffer.from('+more'));
  return { f, fd };
}

describe('FakeFs crash model', () => {
  test('data: only fsync’d bytes survive power loss; kill -9 keeps all; a torn crash keeps part of the unsynced tail', () => {
    const { f, fd } = withFile();
    expect(f.crash().peek('/d/a')?.toString()).toBe('base');
    expect(f.crash({ data: 'keep' }).peek('/d/a')?.toString()).toBe('base+more');
    expect(f.crash({ data: 'torn' }).peek('/d/a')?.toString()).toBe('base+m');
    f.fsync(fd);
    expect(f.crash().peek('/d/a')?.toString()).toBe('base+more');
  });

  test('entries: a create, rename or unlink survives power loss only after the directory is fsync’d', () => {
    const f = new FakeFs();
    f.mkdir('/d', 0o700);
    const fd = f.open('/d/new', 'wx');
    f.write(fd, Buffer.from('x'));
    f.fsync(fd);
    expect(f.crash().readdir('/d')).toEqual([]);
    expect(f.crash({ entries: 'keep' }).readdir('/d')).toEqual(['new']);
    f.fsyncDir('/d');
    expect(f.crash().peek('/d/new')?.toString()).toBe('x');
    f.rename('/d/new', '/d/renamed');
    expect(f.crash().readdir('/d')).toEqual(['new']);
    f.fsyncDir('/d');
    f.unlink('/d/renamed');
    expect(f.crash().readdir('/d')).toEqual(['renamed']);
  });

  test('killAt: the chosen call and every later one throw without acting; failNext: one errno', () => {
    const { f, fd } = withFile();
    f.killAt(1);
    f.fsync(fd);
    expect(() => f.rename('/d/a', '/d/b')).toThrow(SimulatedCrash);
    expect(() => f.readdir('/d')).toThrow(SimulatedCrash);
    expect(f.crash().readdir('/d')).toEqual(['a']);
    const g = new FakeFs();
    g.mkdir('/d', 0o700);
    g.failNext('open', 'ENOSPC');
    expect(() => g.open('/d/x', 'wx')).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    expect(() => g.open('/d/x', 'wx')).not.toThrow();
    expect(() => g.open('/d/x', 'wx')).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(() => g.open('/d/y', 'r')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  test('held fsyncs complete only when released; a crash before keeps the old data', async () => {
    const { f, fd } = withFile();
    f.holdFsyncs = true;
    let done = false;
    const p = f.fsyncAsync(fd).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    expect(f.crash().peek('/d/a')?.toString()).toBe('base');
    expect(f.releaseFsyncs()).toBe(1);
    await p;
    expect(f.crash().peek('/d/a')?.toString()).toBe('base+more');
  });
});
