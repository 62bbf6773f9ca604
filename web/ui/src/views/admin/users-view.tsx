import { useState } from 'preact/hooks';
import type { User } from '../../api/types';
import { deleteUser, listUsers } from '../../api/users';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { ListStatus } from '../../components/list-status';
import { Notice } from '../../components/notice';
import { Pagination } from '../../components/pagination';
import { SearchBox } from '../../components/search-box';
import { formatDate } from '../../format/format';
import { pageParam, usePagedList } from '../../hooks/use-paged-list';
import { useObservable } from '../../lib/use-observable';
import { currentLocation, navigate, withParams } from '../../router/location';
import { sessionStore } from '../../services';
import { ListFilter } from './list-filter';
import { PasswordDialog } from './password-dialog';
import { ROLE_LABELS, roleParam } from './roles';
import { UserFormDialog } from './user-form-dialog';

const PER_PAGE = 20;

type OpenDialog =
  { kind: 'create' } | { kind: 'edit'; user: User } | { kind: 'password'; user: User } | { kind: 'delete'; user: User };

/** Administrators' list of accounts: search, filter by role, create, edit, reset, delete. */
export default function UsersView() {
  const { query } = useObservable(currentLocation);
  const myId = useObservable(sessionStore)?.user.id;
  const q = query.get('q') ?? '';
  const role = roleParam(query.get('role'));
  const page = pageParam(query);
  const list = usePagedList(
    (signal) => listUsers({ q, role, page, per_page: PER_PAGE }, signal),
    JSON.stringify([q, role, page]),
  );
  const [dialog, setDialog] = useState<OpenDialog | null>(null);
  const [notice, setNotice] = useState('');

  const close = () => setDialog(null);
  function done(message: string) {
    setDialog(null);
    setNotice(message);
    list.reload();
  }

  return (
    <div class="list-view">
      <div class="toolbar">
        <SearchBox
          label="Search users"
          value={q}
          onSearch={(text) => navigate(withParams({ q: text, page: null }), { replace: true })}
        />
        <ListFilter
          label="Role"
          value={role ?? ''}
          options={[
            { value: '', label: 'All roles' },
            { value: 'client', label: 'Customers' },
            { value: 'admin', label: 'Administrators' },
          ]}
          onChange={(value) => navigate(withParams({ role: value, page: null }), { replace: true })}
        />
        <button type="button" class="button button--primary" onClick={() => setDialog({ kind: 'create' })}>
          New user
        </button>
      </div>
      <Notice message={notice} />
      <ListStatus list={list} empty={q ? `No users match “${q}”.` : 'No users match these filters.'} />
      {list.page && list.page.items.length > 0 && (
        <>
          <table class="data-table" aria-busy={list.loading}>
            <caption class="visually-hidden">Users</caption>
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.page.items.map((user) => (
                <tr key={user.id}>
                  <th scope="row" data-label="Username">
                    {/* One element, so the stacked phone layout keeps the tag beside the name. */}
                    <span>
                      {user.username}
                      {user.id === myId && <span class="tag">you</span>}
                    </span>
                  </th>
                  <td data-label="Name">{user.display_name}</td>
                  <td data-label="Role">{ROLE_LABELS[user.role]}</td>
                  <td data-label="Created">{formatDate(user.created_at)}</td>
                  <td>
                    <div class="row-actions">
                      <button
                        type="button"
                        class="button button--small"
                        onClick={() => setDialog({ kind: 'edit', user })}
                      >
                        Edit<span class="visually-hidden"> {user.username}</span>
                      </button>
                      <button
                        type="button"
                        class="button button--small"
                        onClick={() => setDialog({ kind: 'password', user })}
                      >
                        Reset password<span class="visually-hidden"> of {user.username}</span>
                      </button>
                      {user.id !== myId && (
                        <button
                          type="button"
                          class="button button--small button--danger"
                          onClick={() => setDialog({ kind: 'delete', user })}
                        >
                          Delete<span class="visually-hidden"> {user.username}</span>
                        </button>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pagination page={list.page} noun={{ one: 'user', many: 'users' }} />
        </>
      )}

      {dialog?.kind === 'create' && <UserFormDialog user={null} onClose={close} onSaved={done} />}
      {dialog?.kind === 'edit' && <UserFormDialog user={dialog.user} onClose={close} onSaved={done} />}
      {dialog?.kind === 'password' && <PasswordDialog user={dialog.user} onClose={close} onSaved={done} />}
      {dialog?.kind === 'delete' && (
        <ConfirmDialog
          title={`Delete ${dialog.user.username}?`}
          confirmLabel="Delete user"
          onClose={close}
          onConfirm={async () => {
            await deleteUser(dialog.user.id);
            done(`User ${dialog.user.username} deleted.`);
          }}
        >
          <p>
            {dialog.user.display_name} will no longer be able to sign in. Their devices stay, without an owner. This
            cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
