import { Etcd3 } from 'etcd3';
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { startEtcd, startPostgres } from './index';

describe('test servers', () => {
  it('starts, outages and stops a private etcd', async () => {
    const etcd = await startEtcd();
    const client = new Etcd3({ hosts: etcd.endpoint });
    await client.put('k').value('v');
    expect(await client.get('k').string()).toBe('v');
    await etcd.kill();
    await etcd.start();
    expect(await client.get('k').string()).toBe('v');
    client.close();
    await etcd.stop();
  });

  it('starts and stops a private PostgreSQL', async () => {
    const pg = await startPostgres();
    const client = new Client({ connectionString: pg.connectionString });
    await client.connect();
    const { rows } = await client.query('select 1 + 1 as two, current_setting($1) as fsync', ['fsync']);
    expect(rows[0]).toEqual({ two: 2, fsync: 'on' });
    await client.end();
    await pg.stop();
  });
});
