import type { User } from '../../api/types';
import { deleteUser, listUsers } from '../../api/users';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { ListFilter } from '../../components/list-filter';
import { ListPage, useListActions } from '../../components/list-page';
import { RowAction } from '../../components/row-action';
import { SearchBox } from '../../components/search-box';
import { formatDate } from '../../format/format';
import { pageParam, usePagedList } from '../../hooks/use-paged-list';
import { useObservable } from '../../lib/use-observable';
import { currentLocation, navigate, withParams } from '../../router/location';
import { sessionStore } from '../../services';
import { PasswordDialog } from './password-dialog';
import { TariffDialog } from './tariff-dialog';
import { ROLE_LABELS, roleParam } from './roles';
import { UserFormDialog } from './user-form-dialog';

const PER_PAGE = 20;

type OpenDialog =
  | { kind: 'create' }
  | { kind: 'edit'; user: User }
  | { kind: 'password'; user: User }
  | { kind: 'tariff'; user: User }
  | { kind: 'delete'; user: User };

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
  const { dialog, open, close, done, notice } = useListActions<OpenDialog>(list);

  return (
    <ListPage
      list={list}
      notice={notice}
      empty={q ? `No users match “${q}”.` : 'No users match these filters.'}
      noun={{ one: 'user', many: 'users' }}
      toolbar={
        <>
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
          <button type="button" class="button button--primary" onClick={() => open({ kind: 'create' })}>
            New user
          </button>
        </>
      }
      table={{
        caption: 'Users',
        rowKey: (user) => user.id,
        columns: [
          {
            label: 'Username',
            // One element, so the stacked phone layout keeps the tag beside the name.
            cell: (user) => (
              <span>
                {user.username}
                {user.id === myId && <span class="tag">you</span>}
              </span>
            ),
          },
          { label: 'Name', cell: (user) => user.display_name },
          { label: 'Role', cell: (user) => ROLE_LABELS[user.role] },
          { label: 'Created', cell: (user) => formatDate(user.created_at) },
        ],
        actions: (user) => (
          <>
            <RowAction label="Edit" target={user.username} onClick={() => open({ kind: 'edit', user })} />
            <RowAction
              label="Reset password"
              target={`of ${user.username}`}
              onClick={() => open({ kind: 'password', user })}
            />
            {user.role === 'client' && (
              <RowAction label="Tariff" target={`of ${user.username}`} onClick={() => open({ kind: 'tariff', user })} />
            )}
            {user.id !== myId && (
              <RowAction label="Delete" target={user.username} danger onClick={() => open({ kind: 'delete', user })} />
            )}
          </>
        ),
      }}
    >
      {dialog?.kind === 'create' && <UserFormDialog user={null} onClose={close} onSaved={done} />}
      {dialog?.kind === 'edit' && <UserFormDialog user={dialog.user} onClose={close} onSaved={done} />}
      {dialog?.kind === 'password' && <PasswordDialog user={dialog.user} onClose={close} onSaved={done} />}
      {dialog?.kind === 'tariff' && <TariffDialog user={dialog.user} onClose={close} onSaved={done} />}
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
    </ListPage>
  );
}
